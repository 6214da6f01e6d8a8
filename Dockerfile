# CPU training image: the `train` CLI (TensorFlow.js on native TensorFlow kernels, LightGBM in
# WebAssembly, the Arrow tick pipeline). The generated Airflow DAGs run it as KubernetesPodOperator
# pods with `cmds=["train"]`, as uid 1000 (runAsNonRoot).
#   docker build --build-arg GIT_SHA="$(git rev-parse HEAD)" -t registry.example.com/ml-platform/podtrain:0.1.0 .
ARG NODE_IMAGE=node:24.9.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
# python3-pip: `npm run setup` takes TensorFlow's C library from the PyPI wheel (pinned by hash);
# g++ and make: it then compiles @tensorflow/tfjs-node's addon against it.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates g++ make python3 python3-pip \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY . .
RUN npm run setup && npm prune --omit=dev

FROM ${NODE_IMAGE}
ARG GIT_SHA=unknown
# The code version MLflow records for each run (.git is not in the build context).
ENV NODE_ENV=production \
    PODTRAIN_GIT_SHA=${GIT_SHA}
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/native ./native
COPY --from=build /app/models ./models
RUN chmod 0755 bin/train.js && ln -s /app/bin/train.js /usr/local/bin/train
# Numeric, so Kubernetes can verify runAsNonRoot; 1000 is the image's `node` user.
USER 1000:1000
ENTRYPOINT ["train"]
CMD ["--help"]
