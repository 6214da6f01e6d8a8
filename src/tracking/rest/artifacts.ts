import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { UsageError } from "../../core/errors.js";
import { listFilesRecursive } from "../../core/files.js";
import type { Environment } from "./credentials.js";
import type { MlflowHttpClient } from "./http-client.js";

// Artifacts go through the tracking server's artifact proxy (`mlflow server --serve-artifacts`),
// so pods need no object-store credentials of their own. Large files use the proxy's multipart
// upload when the artifact store behind it supports it (S3, GCS, Azure), plain PUT otherwise.

const MULTIPART_MINIMUM_BYTES = 500 * 1024 ** 2;
const MULTIPART_CHUNK_BYTES = 10 * 1024 ** 2;
const UNSUPPORTED_MULTIPART = "Multipart upload is not supported";

interface MultipartCredential {
  url: string;
  part_number: number;
  headers?: Record<string, string>;
}

/** `mlflow-artifacts:/1/<run>/artifacts` (or the http form) → `1/<run>/artifacts`. */
export function proxiedArtifactPath(artifactUri: string): string {
  const match = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/.exec(artifactUri) ?? /^https?:\/\/.*?\/api\/2\.0\/mlflow-artifacts\/artifacts\/*(.*)$/.exec(artifactUri);
  if (!match) {
    throw new UsageError(`artifacts at ${artifactUri} are not served by the tracking server; start it with --serve-artifacts (the default) so pods need no storage credentials`);
  }
  return (match[1] ?? "").replace(/\/+$/, "");
}

export class ProxiedArtifacts {
  private multipartSupported?: Promise<boolean>;

  constructor(
    private readonly client: MlflowHttpClient,
    private readonly environment: Environment = process.env,
  ) {}

  async uploadDirectory(remoteDirectory: string, localDirectory: string): Promise<void> {
    for (const relative of await listFilesRecursive(localDirectory)) {
      await this.uploadFile(path.posix.join(remoteDirectory, relative.split(path.sep).join("/")), path.join(localDirectory, relative));
    }
  }

  async uploadFile(remotePath: string, localFile: string): Promise<void> {
    const { size } = await stat(localFile);
    const threshold = Number(this.environment.MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE ?? MULTIPART_MINIMUM_BYTES);
    if (size >= threshold && (await this.supportsMultipart()) && (await this.uploadMultipart(remotePath, localFile, size))) return;
    await this.client.request(
      "uploadArtifact",
      {
        pathParameters: { artifact_path: remotePath },
        // Streamed from disk on every attempt; the length lets the server's WSGI bridge read it.
        body: () => ({ data: Readable.toWeb(createReadStream(localFile)) as ReadableStream, headers: { "content-type": "application/octet-stream", "content-length": String(size) } }),
      },
      async (response) => void (await response.arrayBuffer()),
    );
  }

  /** Files (not folders) under `remoteDirectory`, relative to `relativeTo`, sorted. */
  async listFiles(remoteDirectory: string, relativeTo: string): Promise<string[]> {
    const found: string[] = [];
    const walk = async (directory: string): Promise<void> => {
      const listing = await this.client.call<{ files?: Array<{ path: string; is_dir?: boolean }> }>("listArtifacts", { query: { path: directory } });
      for (const entry of listing.files ?? []) {
        const child = path.posix.join(directory, entry.path);
        if (entry.is_dir) await walk(child);
        else found.push(path.posix.relative(relativeTo, child));
      }
    };
    await walk(remoteDirectory);
    return found.sort();
  }

  async downloadFile(remotePath: string, localFile: string): Promise<void> {
    await mkdir(path.dirname(localFile), { recursive: true });
    await this.client.request("downloadArtifact", { pathParameters: { artifact_path: remotePath } }, async (response) => {
      if (!response.body) throw new Error("empty response body");
      await pipeline(Readable.fromWeb(response.body as never), createWriteStream(localFile));
    });
  }

  private supportsMultipart(): Promise<boolean> {
    this.multipartSupported ??= this.client
      .call<{ multipart_uploads_enabled?: boolean }>("serverInfo", { policy: { maxRetries: 1 } })
      .then((info) => info.multipart_uploads_enabled === true, () => false);
    return this.multipartSupported;
  }

  /** Returns false when the server turns out not to support multipart after all. */
  private async uploadMultipart(remotePath: string, localFile: string, size: number): Promise<boolean> {
    const chunkBytes = Number(this.environment.MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE ?? MULTIPART_CHUNK_BYTES);
    const directory = path.posix.dirname(remotePath) === "." ? "" : path.posix.dirname(remotePath);
    const fileName = path.posix.basename(remotePath);
    const pathParameters = { artifact_path: directory };
    let created: { upload_id: string; credentials: MultipartCredential[] };
    try {
      created = await this.client.call("createMultipartUpload", { pathParameters, json: { path: fileName, num_parts: Math.ceil(size / chunkBytes) } });
    } catch (error) {
      if ((error as Error).message.includes(UNSUPPORTED_MULTIPART)) return false;
      throw error;
    }
    try {
      const parts = [];
      const handle = await open(localFile, "r");
      try {
        for (const credential of created.credentials.sort((left, right) => left.part_number - right.part_number)) {
          const chunk = Buffer.alloc(Math.min(chunkBytes, size - (credential.part_number - 1) * chunkBytes));
          await handle.read(chunk, 0, chunk.length, (credential.part_number - 1) * chunkBytes);
          // Presigned URLs point at the object store: the tracking credentials must not go there.
          const etag = await this.client.external(`multipart part ${credential.part_number} of ${remotePath}`, credential.url, { method: "PUT", body: chunk, headers: credential.headers ?? {} }, async (response) => {
            await response.arrayBuffer();
            return response.headers.get("etag") ?? "";
          });
          parts.push({ part_number: credential.part_number, etag, url: credential.url });
        }
      } finally {
        await handle.close();
      }
      await this.client.call("completeMultipartUpload", { pathParameters, json: { path: fileName, upload_id: created.upload_id, parts } });
      return true;
    } catch (error) {
      await this.client.call("abortMultipartUpload", { pathParameters, json: { path: fileName, upload_id: created.upload_id }, policy: { maxRetries: 1 } }).catch(() => undefined);
      throw error;
    }
  }
}
