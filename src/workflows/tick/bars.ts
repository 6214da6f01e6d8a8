import { SIDE_FROM_TICK_RULE } from "../../data/tick/time-order.js";
import type { TradeColumns } from "../../data/tick/trade-columns.js";
import { ACCEPTED, NANOS_PER_DAY_NUMBER, type ValidatedTrades } from "../../data/tick/validate.js";

// Time bars on a dense grid (symbol × bar of the day): one pass over the accepted trades, each
// trade touching one cell, no sorting and no hash lookups. A 1-minute day is 1,440 cells per
// symbol, so the grid is small even for hundreds of symbols; empty cells are skipped later.
//
// Trade sign: the file's `side` where present (rows of a file without one are marked
// SIDE_FROM_TICK_RULE when other files of the date have it), else the tick rule (up-tick +1, down-tick -1,
// zero-tick repeats the previous sign). The rule's state crosses the day boundary, so the first
// trade of a day is signed against the previous partition's last trade.

/** Tick-rule state per symbol at the end of a day, computed from that day alone. */
export interface TickRuleState {
  lastPrice: number;
  /** Sign of the day's last non-zero tick, 0 when the day had none. */
  lastSign: number;
}

export interface DayBars {
  date: string;
  barNanos: number;
  barsPerDay: number;
  symbolNames: string[];
  /** Grid arrays, indexed by symbolId * barsPerDay + barOfDay. */
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  notional: Float64Array;
  signedVolume: Float64Array;
  tradeCount: Int32Array;
  exitTickState: Map<string, TickRuleState>;
}

const GRID_COLUMNS = ["open", "high", "low", "close", "volume", "notional", "signedVolume"] as const;

export class BarAccumulator {
  readonly barsPerDay: number;
  private bars: DayBars;
  private capacity = 0;
  private lastPrice = new Float64Array(0);
  private lastSign = new Int8Array(0);
  private sawTickToday = new Uint8Array(0);
  private tradedToday = new Uint8Array(0);

  constructor(
    date: string,
    readonly barNanos: number,
    private readonly entryTickState: ReadonlyMap<string, TickRuleState> = new Map(),
  ) {
    this.barsPerDay = Math.ceil(NANOS_PER_DAY_NUMBER / barNanos);
    this.bars = {
      date, barNanos, barsPerDay: this.barsPerDay, symbolNames: [],
      open: new Float64Array(0), high: new Float64Array(0), low: new Float64Array(0), close: new Float64Array(0),
      volume: new Float64Array(0), notional: new Float64Array(0), signedVolume: new Float64Array(0),
      tradeCount: new Int32Array(0), exitTickState: new Map(),
    };
  }

  private ensureSymbols(symbolNames: readonly string[]): void {
    const count = symbolNames.length;
    for (let id = this.bars.symbolNames.length; id < count; id += 1) this.bars.symbolNames.push(symbolNames[id] as string);
    if (count <= this.capacity) return;
    const capacity = Math.max(count, this.capacity * 2, 8);
    const grow = <T extends Float64Array | Int32Array | Int8Array | Uint8Array>(old: T, size: number): T => {
      const next = new (old.constructor as new (length: number) => T)(size);
      next.set(old);
      return next;
    };
    for (const name of GRID_COLUMNS) this.bars[name] = grow(this.bars[name], capacity * this.barsPerDay);
    this.bars.tradeCount = grow(this.bars.tradeCount, capacity * this.barsPerDay);
    const previousCapacity = this.capacity;
    this.lastPrice = grow(this.lastPrice, capacity);
    this.lastSign = grow(this.lastSign, capacity);
    this.sawTickToday = grow(this.sawTickToday, capacity);
    this.tradedToday = grow(this.tradedToday, capacity);
    this.lastPrice.fill(Number.NaN, previousCapacity);
    this.capacity = capacity;
  }

  /** Adds the accepted rows of one validated file; `symbolNames` is the partition's id → name. */
  add(trades: TradeColumns, validated: ValidatedTrades, symbolNames: readonly string[]): void {
    // Entry state must be looked up by name for ids created after the last growth.
    const knownBefore = this.bars.symbolNames.length;
    this.ensureSymbols(symbolNames);
    for (let id = knownBefore; id < symbolNames.length; id += 1) {
      const entry = this.entryTickState.get(symbolNames[id] as string);
      this.lastPrice[id] = entry?.lastPrice ?? Number.NaN;
      this.lastSign[id] = entry?.lastSign ?? 0;
    }
    const { open, high, low, close, volume, notional, signedVolume, tradeCount } = this.bars;
    const { lastPrice, lastSign, sawTickToday, tradedToday, barsPerDay, barNanos } = this;
    const { reasons, symbolIds, nanosOfDay } = validated;
    const { price, size, side } = trades;
    if (side !== null && !side.includes(SIDE_FROM_TICK_RULE)) {
      this.addSigned(trades, validated, side);
      return;
    }
    for (let row = 0; row < trades.rowCount; row += 1) {
      if (reasons[row] !== ACCEPTED) continue;
      const id = symbolIds[row] as number;
      const cell = id * barsPerDay + Math.floor((nanosOfDay[row] as number) / barNanos);
      const tradePrice = price[row] as number;
      const tradeSize = size[row] as number;
      const change = tradePrice - (lastPrice[id] as number);
      let tickSign = lastSign[id] as number;
      if (change > 0) tickSign = 1;
      else if (change < 0) tickSign = -1;
      if (change !== 0 && tradedToday[id] === 1 && change === change) sawTickToday[id] = 1;
      lastSign[id] = tickSign;
      lastPrice[id] = tradePrice;
      tradedToday[id] = 1;
      const fileSide = side === null ? SIDE_FROM_TICK_RULE : (side[row] as number);
      const sign = fileSide === SIDE_FROM_TICK_RULE ? tickSign : fileSide;
      if (tradeCount[cell] === 0) {
        open[cell] = tradePrice;
        high[cell] = tradePrice;
        low[cell] = tradePrice;
      } else {
        if (tradePrice > (high[cell] as number)) high[cell] = tradePrice;
        if (tradePrice < (low[cell] as number)) low[cell] = tradePrice;
      }
      close[cell] = tradePrice;
      volume[cell] = (volume[cell] as number) + tradeSize;
      notional[cell] = (notional[cell] as number) + tradePrice * tradeSize;
      signedVolume[cell] = (signedVolume[cell] as number) + sign * tradeSize;
      tradeCount[cell] = (tradeCount[cell] as number) + 1;
    }
  }

  /**
   * The same bars when every row carries its side: the tick rule then signs nothing, so the hot
   * loop skips it (its up/down branch mispredicted on every other trade) and the rule's state
   * at the end, which the next day needs, comes from a short backward scan.
   */
  private addSigned(trades: TradeColumns, validated: ValidatedTrades, side: Int8Array): void {
    const { open, high, low, close, volume, notional, signedVolume, tradeCount } = this.bars;
    const { barsPerDay, barNanos } = this;
    const { reasons, symbolIds, nanosOfDay } = validated;
    const { price, size } = trades;
    const present = new Uint8Array(this.bars.symbolNames.length);
    for (let row = 0; row < trades.rowCount; row += 1) {
      if (reasons[row] !== ACCEPTED) continue;
      const id = symbolIds[row] as number;
      present[id] = 1;
      const cell = id * barsPerDay + Math.floor((nanosOfDay[row] as number) / barNanos);
      const tradePrice = price[row] as number;
      const tradeSize = size[row] as number;
      if (tradeCount[cell] === 0) {
        open[cell] = tradePrice;
        high[cell] = tradePrice;
        low[cell] = tradePrice;
      } else {
        if (tradePrice > (high[cell] as number)) high[cell] = tradePrice;
        if (tradePrice < (low[cell] as number)) low[cell] = tradePrice;
      }
      close[cell] = tradePrice;
      volume[cell] = (volume[cell] as number) + tradeSize;
      notional[cell] = (notional[cell] as number) + tradePrice * tradeSize;
      signedVolume[cell] = (signedVolume[cell] as number) + (side[row] as number) * tradeSize;
      tradeCount[cell] = (tradeCount[cell] as number) + 1;
    }
    this.settleTickState(reasons, symbolIds, price, present);
  }

  /**
   * The tick-rule state after these rows, as the per-row rule in `add` leaves it: each symbol's
   * last accepted price, and the sign of its last non-zero price change (found from the end).
   * `present` marks the symbols with accepted rows here.
   */
  private settleTickState(reasons: Uint8Array, symbolIds: Int32Array, price: Float64Array, present: Uint8Array): void {
    const symbols = present.length;
    let unsettled = 0;
    for (let id = 0; id < symbols; id += 1) unsettled += present[id] as number;
    const later = new Float64Array(symbols).fill(Number.NaN);
    const settled = new Uint8Array(symbols);
    for (let row = reasons.length - 1; row >= 0 && unsettled > 0; row -= 1) {
      if (reasons[row] !== ACCEPTED) continue;
      const id = symbolIds[row] as number;
      const tradePrice = price[row] as number;
      if (settled[id] === 1) continue;
      const next = later[id] as number;
      if (next !== next) {
        // NaN: the symbol's last row.
      } else if (tradePrice !== next) {
        this.lastSign[id] = next > tradePrice ? 1 : -1;
        this.sawTickToday[id] = 1;
        settled[id] = 1;
        unsettled -= 1;
      }
      later[id] = tradePrice;
    }
    for (let id = 0; id < symbols; id += 1) {
      if (present[id] !== 1) continue;
      if (settled[id] === 0) {
        // Every row traded at the first price: only the step from the price before (if any) counts.
        const change = (later[id] as number) - (this.lastPrice[id] as number);
        if (change > 0 || change < 0) {
          this.lastSign[id] = change > 0 ? 1 : -1;
          if (this.tradedToday[id] === 1) this.sawTickToday[id] = 1;
        }
      }
      this.tradedToday[id] = 1;
    }
    // The last price of each symbol: its last accepted row.
    const found = new Uint8Array(symbols);
    let missing = 0;
    for (let id = 0; id < symbols; id += 1) missing += present[id] as number;
    for (let row = reasons.length - 1; row >= 0 && missing > 0; row -= 1) {
      if (reasons[row] !== ACCEPTED) continue;
      const id = symbolIds[row] as number;
      if (found[id] === 1) continue;
      found[id] = 1;
      missing -= 1;
      this.lastPrice[id] = price[row] as number;
    }
  }

  finish(): DayBars {
    const size = this.bars.symbolNames.length * this.barsPerDay;
    for (const name of GRID_COLUMNS) this.bars[name] = this.bars[name].subarray(0, size);
    this.bars.tradeCount = this.bars.tradeCount.subarray(0, size);
    this.bars.symbolNames.forEach((name, id) => {
      if (this.tradedToday[id] !== 1) return;
      // Only what this day saw, so a partition's output never depends on two days back.
      const lastSign = this.sawTickToday[id] === 1 ? (this.lastSign[id] as number) : 0;
      this.bars.exitTickState.set(name, { lastPrice: this.lastPrice[id] as number, lastSign });
    });
    return this.bars;
  }
}
