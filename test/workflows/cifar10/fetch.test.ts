import { createHash } from "node:crypto";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerDataCommand } from "../../../src/cli/data-command.js";
import { fetchCifar10 } from "../../../src/data/cifar10/fetch.js";
import { DataError, UnavailableError } from "../../../src/core/errors.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), "podtrain-cifar10-fetch-"));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

/** A loopback port nobody listens on: bind one, then free it. */
async function refusedUrl(): Promise<string> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, "close");
  return `http://127.0.0.1:${port}/cifar-10-binary.tar.gz`;
}

/** Serves `content`, honouring `Range: bytes=N-` like the dataset's web server. */
async function rangeServer(content: Buffer, ranges: string[]): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const range = request.headers.range;
    if (range) ranges.push(range);
    const start = range ? Number(/bytes=(\d+)-/.exec(range)?.[1] ?? 0) : 0;
    if (start >= content.length) {
      response.writeHead(416).end();
      return;
    }
    response.writeHead(range ? 206 : 200, { "content-length": content.length - start }).end(content.subarray(start));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cifar-10-binary.tar.gz` };
}

describe("train data fetch cifar10", () => {
  it("fails with one clear error naming --data-file and --data-dir when the address cannot be reached", async () => {
    const url = await refusedUrl();
    const target = path.join(directory, "offline");
    const error = await fetchCifar10({ directory: target, url }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnavailableError);
    const message = (error as Error).message;
    expect(message).toMatch(new RegExp(`^cannot download CIFAR-10 from ${url.replaceAll(".", "\\.")} \\(ECONNREFUSED\\); without network access, download https://www\\.cs\\.toronto\\.edu/~kriz/cifar-10-binary\\.tar\\.gz`));
    expect(message).toContain("--data-file <cifar-10-binary.tar.gz>");
    expect(message).toContain("--data-dir <folder>");
    expect(existsSync(path.join(target, "cifar-10-binary.tar.gz"))).toBe(false);

    // The same error comes through the command (exit code 69, EX_UNAVAILABLE, in the CLI).
    const program = new Command("train").exitOverride();
    registerDataCommand(program);
    const fromCommand = await program.parseAsync(["node", "train", "data", "fetch", "cifar10", "--dir", target, "--url", url]).catch((caught: unknown) => caught);
    expect(fromCommand).toBeInstanceOf(UnavailableError);
    expect((fromCommand as UnavailableError).exitCode).toBe(69);
  });

  it("resumes a partial download with an HTTP Range request, checks the MD5 and renames atomically", async () => {
    const content = Buffer.from(Array.from({ length: 100_000 }, (_, index) => (index * 7) % 251));
    const md5 = createHash("md5").update(content).digest("hex");
    const ranges: string[] = [];
    const { server, url } = await rangeServer(content, ranges);
    try {
      const target = path.join(directory, "resume");
      await mkdir(target, { recursive: true });
      await writeFile(path.join(target, "cifar-10-binary.tar.gz.part"), content.subarray(0, 40_000));
      ranges.length = 0;
      const result = await fetchCifar10({ directory: target, url, expectedMd5: md5 });
      expect(ranges).toEqual(["bytes=40000-"]);
      expect(result).toMatchObject({ md5, bytes: content.length, downloaded: true, sha256: createHash("sha256").update(content).digest("hex") });
      expect((await readFile(result.file)).equals(content)).toBe(true);
      expect(existsSync(`${result.file}.part`)).toBe(false);
      expect(await readFile(`${result.file}.sha256`, "utf8")).toBe(`${result.sha256}  cifar-10-binary.tar.gz\n`);
      // A verified archive is not downloaded again.
      expect((await fetchCifar10({ directory: target, url, expectedMd5: md5 })).downloaded).toBe(false);
    } finally {
      server.close();
    }
  });

  it("removes the partial file and reports a checksum mismatch", async () => {
    const { server, url } = await rangeServer(Buffer.from("not the CIFAR-10 archive"), []);
    try {
      const target = path.join(directory, "mismatch");
      const error = await fetchCifar10({ directory: target, url }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DataError);
      expect((error as Error).message).toMatch(/has MD5 [0-9a-f]{32}, expected c32a1d4ab5d03f1284b67883e8d87530; the partial file was removed, run the command again$/);
      expect(existsSync(path.join(target, "cifar-10-binary.tar.gz.part"))).toBe(false);
      expect(existsSync(path.join(target, "cifar-10-binary.tar.gz"))).toBe(false);
    } finally {
      server.close();
    }
  });
});
