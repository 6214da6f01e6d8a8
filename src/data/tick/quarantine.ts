import { ACCEPTED, reasonName, type ValidatedTrades } from "./validate.js";
import type { TradeColumns } from "./trade-columns.js";

// Rejected rows are kept, with why, in a CSV next to the partition's features: small (rejects
// are rare by construction, the threshold fails the step otherwise), greppable by on-call, and
// byte-stable. `row` is the 0-based row number inside `source_file`.

export const QUARANTINE_HEADER = "source_file,row,reason,timestamp,symbol,price,size,side";

export class QuarantineWriter {
  private readonly lines: string[] = [QUARANTINE_HEADER];

  get rowCount(): number {
    return this.lines.length - 1;
  }

  add(sourceFile: string, trades: TradeColumns, validated: ValidatedTrades): void {
    const { reasons } = validated;
    for (let row = 0; row < trades.rowCount; row += 1) {
      const reason = reasons[row] as number;
      if (reason === ACCEPTED) continue;
      const missing = trades.missing?.[row] === 1;
      const fields = [
        sourceFile,
        String(row),
        reasonName(reason),
        missing && trades.timestampNanos[row] === 0n ? "" : String(trades.timestampNanos[row]),
        trades.symbolNames[trades.symbolCodes[row] as number] ?? "",
        String(trades.price[row]),
        String(trades.size[row]),
        trades.side ? String(trades.side[row]) : "",
      ];
      this.lines.push(fields.join(","));
    }
  }

  toBytes(): Uint8Array {
    return new TextEncoder().encode(`${this.lines.join("\n")}\n`);
  }
}
