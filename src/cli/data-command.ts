import type { Command } from "commander";
import { fetchCifar10 } from "../data/cifar10/fetch.js";
import { defaultCifar10Directory } from "../data/cifar10/dataset.js";
import { UsageError } from "../core/errors.js";

// `train data fetch <dataset>`: puts a data set where the training commands find it by default.
// Only data sets that are downloaded (not shipped, like MNIST) are listed.

const FETCHERS: Record<string, (options: { dir?: string; url?: string }) => Promise<string>> = {
  cifar10: async (options) => {
    const result = await fetchCifar10({
      ...(options.dir ? { directory: options.dir } : {}),
      ...(options.url ? { url: options.url } : {}),
      log: (message) => process.stderr.write(`${message}\n`),
    });
    return [
      `${result.downloaded ? "downloaded" : "already present"} ${result.file}`,
      `  bytes   ${result.bytes}`,
      `  md5     ${result.md5} (matches the published checksum)`,
      `  sha256  ${result.sha256}`,
    ].join("\n");
  },
};

export function registerDataCommand(program: Command): void {
  const data = program.command("data").description("manage training data sets");
  data
    .command("fetch <dataset>")
    .description(`download a data set with checksum verification and resume (${Object.keys(FETCHERS).join(", ")})`)
    .option("--dir <folder>", `target folder (cifar10 default: ${defaultCifar10Directory()})`)
    .option("--url <url>", "download from this address instead of the official one (a mirror); the checksum is still checked")
    .action(async (dataset: string, options: { dir?: string; url?: string }) => {
      const fetcher = FETCHERS[dataset];
      if (!fetcher) throw new UsageError(`unknown data set "${dataset}": expected one of ${Object.keys(FETCHERS).join(", ")}`);
      process.stdout.write(`${await fetcher(options)}\n`);
    });
}
