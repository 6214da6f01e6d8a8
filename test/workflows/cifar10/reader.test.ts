import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { epochBatches, IDENTITY, normalisationTable, writeImageHwc } from "../../../src/data/cifar10/batches.js";
import { loadCifar10 } from "../../../src/data/cifar10/dataset.js";
import { CIFAR10_META_FILE, CIFAR10_PIXELS_PER_IMAGE, CIFAR10_RECORD_BYTES, encodeBatch, parseBatch, parseBatches } from "../../../src/data/cifar10/format.js";
import { DataError } from "../../../src/core/errors.js";
import { writeFixture, type FixtureLayout } from "./fixtures.js";

let directory: string;
let fixture: FixtureLayout;
beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), "podtrain-cifar10-reader-"));
  fixture = await writeFixture(path.join(directory, "data"), 20, 15);
});
afterAll(() => rm(directory, { recursive: true, force: true }));

// Buffer.equals, not toEqual: vitest's deep equality walks big typed arrays element by element.
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const identityTable = normalisationTable([0, 0, 0], [1 / 255, 1 / 255, 1 / 255]); // value → value

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(DataError);
  return error as Error;
}

describe("CIFAR-10 binary records", () => {
  it("splits label bytes from channel-major pixels and converts them to HWC", () => {
    const record = new Uint8Array(2 * CIFAR10_RECORD_BYTES);
    record[0] = 3;
    record[1 + 0 * 1024 + 0 * 32 + 1] = 11; // R at row 0, column 1
    record[1 + 1 * 1024 + 0 * 32 + 1] = 22; // G at row 0, column 1
    record[1 + 2 * 1024 + 5 * 32 + 7] = 33; // B at row 5, column 7
    record[CIFAR10_RECORD_BYTES] = 9;
    record[CIFAR10_RECORD_BYTES + 1 + 2 * 1024 + 31 * 32 + 31] = 255; // B at the last pixel of image 2
    const split = parseBatch(record, "two.bin");
    expect(split.count).toBe(2);
    expect([...split.labels]).toEqual([3, 9]);
    const hwc = new Float32Array(2 * CIFAR10_PIXELS_PER_IMAGE);
    writeImageHwc(split.images, 0, hwc, 0, IDENTITY, identityTable);
    writeImageHwc(split.images, CIFAR10_PIXELS_PER_IMAGE, hwc, CIFAR10_PIXELS_PER_IMAGE, IDENTITY, identityTable);
    const at = (image: number, y: number, x: number, channel: number) => Math.round(hwc[image * CIFAR10_PIXELS_PER_IMAGE + (y * 32 + x) * 3 + channel]!);
    expect([at(0, 0, 1, 0), at(0, 0, 1, 1), at(0, 0, 1, 2)]).toEqual([11, 22, 0]);
    expect(at(0, 5, 7, 2)).toBe(33);
    expect(at(1, 31, 31, 2)).toBe(255);
    expect(hwc.reduce((sum, value) => sum + Math.round(value), 0)).toBe(11 + 22 + 33 + 255);
  });

  it("rejects a size that is not a whole number of records, a short official batch and labels above 9", () => {
    expect(() => parseBatch(new Uint8Array(CIFAR10_RECORD_BYTES + 5), "cut.bin")).toThrow(
      "cut.bin: 3078 bytes is not a whole number of 3073-byte CIFAR-10 records (1 records + 5 stray bytes): the file is truncated or not the binary version",
    );
    expect(() => parseBatch(new Uint8Array(CIFAR10_RECORD_BYTES * 3), "short.bin", { expectedRecords: 10_000 })).toThrow(
      "short.bin: 3 records, an official CIFAR-10 batch has exactly 10000; the file is truncated or not from the official archive",
    );
    const bad = new Uint8Array(CIFAR10_RECORD_BYTES * 2);
    bad[CIFAR10_RECORD_BYTES] = 10;
    expect(() => parseBatch(bad, "labels.bin")).toThrow("labels.bin: record 1 has label 10, outside 0..9; is this CIFAR-100 or a corrupt file?");
    expect(() => parseBatch(new Uint8Array(0), "empty.bin")).toThrow(DataError);
    // Labels are checked in every record, also past a --train-limit that keeps fewer images.
    expect(() => parseBatches([{ bytes: bad, source: "labels.bin" }], {}, 1)).toThrow("labels.bin: record 1 has label 10");
    expect(parseBatches([{ bytes: new Uint8Array(CIFAR10_RECORD_BYTES * 3), source: "three.bin" }], {}, 2).count).toBe(2);
  });
});

describe("loadCifar10", () => {
  it("reads the extracted folder and the .tar.gz archive to the same images and labels", async () => {
    const fromFolder = await loadCifar10({ dataDir: fixture.root, allowPartialBatches: true });
    const fromArchive = await loadCifar10({ dataFile: fixture.archive, allowPartialBatches: true });
    expect(fromFolder.train.count).toBe(100);
    expect(fromFolder.test.count).toBe(15);
    expect(fromFolder.source).toBe(fixture.batchFolder);
    expect(sameBytes(fromFolder.train.images.subarray(20 * CIFAR10_PIXELS_PER_IMAGE, 21 * CIFAR10_PIXELS_PER_IMAGE), fixture.train[1]!.images.subarray(0, CIFAR10_PIXELS_PER_IMAGE))).toBe(true);
    expect([...fromFolder.test.labels]).toEqual([...fixture.test.labels]);
    expect(sameBytes(fromArchive.train.images, fromFolder.train.images)).toBe(true);
    expect(sameBytes(fromArchive.test.labels, fromFolder.test.labels)).toBe(true);
    // The data version of an archive is its SHA-256; of a folder, a hash over the six batch files.
    expect(fromArchive.dataVersion).toBe(createHash("sha256").update(await readFile(fixture.archive)).digest("hex"));
    expect(Object.keys(fromFolder.fileHashes).sort()).toEqual(["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"]);
    expect(fromFolder.dataVersion).toMatch(/^[0-9a-f]{64}$/);
    // --data-dir pointing at the folder holding the archive also works.
    const fromArchiveFolder = await loadCifar10({ dataDir: path.dirname(fixture.archive), allowPartialBatches: true, trainLimit: 30, testLimit: 4 });
    expect([fromArchiveFolder.train.count, fromArchiveFolder.test.count]).toEqual([30, 4]);
    expect(fromArchiveFolder.dataVersion).toBe(fromArchive.dataVersion);
  });

  it("insists on 10000 records per batch unless partial batches are allowed", async () => {
    const error = await rejection(loadCifar10({ dataDir: fixture.root }));
    expect(error.message).toBe(`${fixture.batchFolder}: data_batch_1.bin: 20 records, an official CIFAR-10 batch has exactly 10000; the file is truncated or not from the official archive`);
  });

  it("says where to put the data when there is none", async () => {
    const error = await rejection(loadCifar10({ dataDir: path.join(directory, "nothing-here") }));
    expect(error.message).toContain("CIFAR-10 not found in");
    expect(error.message).toContain("--data-file <cifar-10-binary.tar.gz>");
    expect(error.message).toContain("--data-dir <folder>");
    expect(error.message).toContain("train data fetch cifar10");
  });

  it("fails clearly on a truncated batch file, a missing batch and foreign class names", async () => {
    const broken = await writeFixture(path.join(directory, "broken"), 5, 5);
    await truncate(path.join(broken.batchFolder, "data_batch_3.bin"), 5 * CIFAR10_RECORD_BYTES - 100);
    const truncated = await rejection(loadCifar10({ dataDir: broken.root, allowPartialBatches: true }));
    expect(truncated.message).toBe(`${broken.batchFolder}: data_batch_3.bin: 15265 bytes is not a whole number of 3073-byte CIFAR-10 records (4 records + 2973 stray bytes): the file is truncated or not the binary version`);
    await rm(path.join(broken.batchFolder, "data_batch_3.bin"));
    expect((await rejection(loadCifar10({ dataDir: broken.root, allowPartialBatches: true }))).message).toBe(
      `${broken.batchFolder}: missing data_batch_3.bin; CIFAR-10's binary version has data_batch_1..5.bin and test_batch.bin`,
    );
    await writeFile(path.join(broken.batchFolder, "data_batch_3.bin"), encodeBatch(broken.train[2]!));
    await writeFile(path.join(broken.batchFolder, CIFAR10_META_FILE), "apple\naquarium_fish\n");
    expect((await rejection(loadCifar10({ dataDir: broken.root, allowPartialBatches: true }))).message).toContain("are not CIFAR-10's (airplane,automobile,");
  });

  it("fails clearly on a truncated or corrupt .tar.gz", async () => {
    const archive = await readFile(fixture.archive);
    const cut = path.join(directory, "cut.tar.gz");
    await writeFile(cut, archive.subarray(0, Math.floor(archive.length / 2)));
    const truncated = await rejection(loadCifar10({ dataFile: cut, allowPartialBatches: true }));
    expect(truncated.message).toMatch(/^.*cut\.tar\.gz: not a readable CIFAR-10 archive \(.+\); the download is corrupt or truncated: fetch it again with `train data fetch cifar10`$/);
    const garbled = Buffer.from(archive);
    for (let index = 200; index < 600; index += 1) garbled[index] = (garbled[index]! + 97) % 256;
    const corrupt = path.join(directory, "corrupt.tar.gz");
    await writeFile(corrupt, garbled);
    expect((await rejection(loadCifar10({ dataFile: corrupt, allowPartialBatches: true }))).message).toContain("corrupt.tar.gz: not a readable CIFAR-10 archive (");
    const notGzip = path.join(directory, "plain.tar.gz");
    await writeFile(notGzip, "this is not an archive at all");
    expect((await rejection(loadCifar10({ dataFile: notGzip, allowPartialBatches: true }))).message).toContain("not a readable CIFAR-10 archive");
    expect((await rejection(loadCifar10({ dataFile: path.join(directory, "absent.tar.gz") }))).message).toContain("no such file");
  });

  it("builds normalised batches from the uint8 images without touching the other images", () => {
    const split = fixture.test;
    const batches = [...epochBatches(split, 0, { batchSize: 4, augment: false, shuffle: false, seed: 1 }, identityTable)];
    expect(batches.map((batch) => batch.count)).toEqual([4, 4, 4, 3]);
    const last = batches[3]!;
    const label = split.labels[14]!;
    expect(Array.from(last.labels.subarray(2 * 10, 3 * 10)).indexOf(1)).toBe(label);
    expect(Math.round(last.images[2 * CIFAR10_PIXELS_PER_IMAGE + 1]!)).toBe(split.images[14 * CIFAR10_PIXELS_PER_IMAGE + 1024]);
  });
});
