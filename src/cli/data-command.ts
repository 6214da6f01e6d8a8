import { Option, type Command } from "commander";
import { fetchCifar10 } from "../data/cifar10/fetch.js";
import { fetchPowerData, UCI_POWER_URL } from "../data/power/fetch.js";
import { UsageError } from "../core/errors.js";
import { addOptionWithAliases } from "./option-conventions.js";

/** Where `train data fetch power` puts household_power_consumption.txt (relative to the cwd). */
const POWER_DEFAULT_DIRECTORY = "data/power";

// `train data fetch <dataset>`: puts a data set where the training commands find it by default.
// Only data sets that are downloaded (not shipped, like MNIST) are listed.

interface FetchOptions {
  outDir?: string;
  url?: string;
  sha256?: string;
}

const FETCHERS: Record<string, (options: FetchOptions) => Promise<string>> = {
  cifar10: async (options) => {
    if (options.sha256) throw new UsageError("--sha256 is for power: cifar10 is checked against its published MD5");
    const result = await fetchCifar10({
      ...(options.outDir ? { directory: options.outDir } : {}),
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
  power: async (options) => {
    const result = await fetchPowerData({ directory: options.outDir ?? POWER_DEFAULT_DIRECTORY, url: options.url ?? UCI_POWER_URL, ...(options.sha256 ? { expectedSha256: options.sha256 } : {}) });
    return `${result.file}: ${result.rows} rows, file sha256 ${result.fileSha256}, archive sha256 ${result.archiveSha256}`;
  },
};

/** `train data fetch <dataset>`, also what the deprecated `train power fetch` runs. */
export async function fetchDataset(dataset: string, options: FetchOptions): Promise<string> {
  const fetcher = FETCHERS[dataset];
  if (!fetcher) throw new UsageError(`unknown data set "${dataset}": expected one of ${Object.keys(FETCHERS).join(", ")} (MNIST ships with podtrain; tick data: \`train tick generate\`)`);
  return fetcher(options);
}

export function registerDataCommand(program: Command): void {
  const data = program.command("data").description("manage training data sets");
  const fetch = data
    .command("fetch")
    .description(`download a data set with checksum verification (${Object.keys(FETCHERS).join(", ")})`)
    .argument("<dataset>", `one of ${Object.keys(FETCHERS).join(", ")}`)
    .option("--url <url>", "download from this address instead of the official one (a mirror); the checksum is still checked")
    .option("--sha256 <hex>", "power: expected SHA-256 of the archive (anything else is refused)");
  // --out-dir as for every folder target (was --dir).
  addOptionWithAliases(fetch, new Option("--out-dir <folder>", `target folder (cifar10: $PODTRAIN_DATA_DIR/cifar10, else ~/.cache/podtrain/data/cifar10, where \`train cifar10\` looks; power: ${POWER_DEFAULT_DIRECTORY})`), ["--dir <folder>"]);
  fetch.action(async (dataset: string, options: FetchOptions) => {
    process.stdout.write(`${await fetchDataset(dataset, options)}\n`);
  });
}
