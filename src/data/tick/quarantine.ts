import { SIDE_FROM_TICK_RULE, type OrderedTrades } from "./time-order.js";
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

  /** Rejected rows of a date's time-ordered trades, listed in file then row order (the order a reader greps). */
  addOrdered(sourceFiles: readonly string[], ordered: OrderedTrades, validated: ValidatedTrades): void {
    const rejected: number[] = [];
    for (let index = 0; index < ordered.trades.rowCount; index += 1) if (validated.reasons[index] !== ACCEPTED) rejected.push(index);
    const { sourceFile, sourceRow } = ordered;
    rejected.sort((a, b) => (sourceFile[a] as number) - (sourceFile[b] as number) || (sourceRow[a] as number) - (sourceRow[b] as number));
    for (const index of rejected) {
      this.lines.push(this.line(sourceFiles[sourceFile[index] as number] as string, sourceRow[index] as number, ordered.trades, index, validated.reasons[index] as number));
    }
  }

  private line(sourceFile: string, fileRow: number, trades: TradeColumns, row: number, reason: number): string {
    const missing = trades.missing?.[row] === 1;
    const side = trades.side ? trades.side[row] : undefined;
    return [
      sourceFile,
      String(fileRow),
      reasonName(reason),
      missing && trades.timestampNanos[row] === 0n ? "" : String(trades.timestampNanos[row]),
      trades.symbolNames[trades.symbolCodes[row] as number] ?? "",
      String(trades.price[row]),
      String(trades.size[row]),
      side === undefined || side === SIDE_FROM_TICK_RULE ? "" : String(side),
    ].join(",");
  }

  toBytes(): Uint8Array {
    return new TextEncoder().encode(`${this.lines.join("\n")}\n`);
  }
}
