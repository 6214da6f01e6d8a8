# CPU training image: the `train` CLI (TensorFlow.js on native TensorFlow kernels, LightGBM in
# WebAssembly, the Arrow tick pipeline). The generated Airflow DAGs run it as KubernetesPodOperator
# pods with `cmds=["train"]`, as uid 1000 (runAsNonRoot) with a read-only root filesystem: the only
# writable place is /tmp (an emptyDir in the pod), which is also HOME and the working directory.
#
# With Docker (bases from Docker Hub):
#   docker build --build-arg GIT_SHA="$(git rev-parse HEAD)" \
#     --build-arg IMAGE=registry.example.com/ml-platform/podtrain:0.1.0 \
#     -t registry.example.com/ml-platform/podtrain:0.1.0 .
# Without Docker Hub: scripts/image.sh builds the same file with buildah from bases it builds
# itself (Debian minbase + Node.js from npm), passed as BUILD_IMAGE / RUNTIME_IMAGE.
ARG BUILD_IMAGE=node:24.11.1-bookworm-slim
ARG RUNTIME_IMAGE=node:24.11.1-bookworm-slim

FROM ${BUILD_IMAGE} AS build
# Set by scripts/image.sh when the host reaches the registries through its own CA bundle (mounted
# into the build); unset with plain `docker build`.
ARG NODE_EXTRA_CA_CERTS
ARG PIP_CERT
# python3-pip: provisioning takes TensorFlow's C library from the PyPI wheel (pinned by hash);
# g++ and make: it then compiles @tensorflow/tfjs-node's addon against it. None of it reaches the
# final stage.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates g++ make python3 python3-pip \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
# The native binding before the sources, so that a source change does not rebuild it. These two
# steps are what `npm run setup` runs (build, then native/tensorflow/provision.mjs).
COPY native ./native
# Dates the provisioning record, so that the same inputs give the same files (reproducible builds).
ARG SOURCE_DATE_EPOCH
RUN node native/tensorflow/provision.mjs
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY models ./models
# Then only what `train` loads: no dev dependencies, no compiler intermediates, no headers.
RUN npm run build \
    && npm prune --omit=dev --no-audit --no-fund \
    && rm -rf node_modules/@tensorflow/tfjs-node/build node_modules/@tensorflow/tfjs-node/deps/include \
       node_modules/@tensorflow/tfjs-node/binding node_modules/.package-lock.json \
    && find node_modules \( -name '*.map' -o -name '*.h' \) -type f -delete \
    && find node_modules/onnxruntime-node/bin/napi-v6 -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} + \
    && chmod 0755 bin/train.js \
    && mkdir -p /out/usr/local/bin && ln -s /app/bin/train.js /out/usr/local/bin/train

FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/native ./native
COPY --from=build /app/models ./models
# `train` on the PATH, made in the build stage: this stage runs nothing, so it stays exactly the
# runtime base plus these files.
COPY --from=build /out/ /
# Last, so that a new commit only changes these small metadata steps, not the layers above.
ARG GIT_SHA=unknown
ARG IMAGE=ml-platform/podtrain:unknown
# The code version and image MLflow records for each run (.git is not in the build context); the
# DAGs set PODTRAIN_IMAGE again from the task's image. HOME and the working directory are /tmp so
# that nothing (caches, a default ./mlruns) is written to the read-only root filesystem.
ENV NODE_ENV=production \
    PODTRAIN_GIT_SHA=${GIT_SHA} \
    PODTRAIN_IMAGE=${IMAGE} \
    HOME=/tmp
LABEL org.opencontainers.image.title="podtrain" \
      org.opencontainers.image.revision=${GIT_SHA} \
      org.opencontainers.image.ref.name=${IMAGE}
WORKDIR /tmp
# Numeric, so Kubernetes can verify runAsNonRoot; 1000 is the base image's `node` user.
USER 1000:1000
ENTRYPOINT ["train"]
CMD ["--help"]
