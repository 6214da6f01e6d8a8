import type { DayBars } from "./bars.js";
import { lookbackBars, type TickFeatureParams } from "./params.js";

// Per-symbol features over the day's non-empty bars, with the last `lookbackBars` non-empty bars
// of the previous partition prepended so that rolling windows and lagged returns at the start
// of the day see the same history as a computation over the concatenated days. Features are
// computed in flat loops over Float64Arrays; a NaN means "not enough history".
//
// Label: sign of the forward log return over `label_horizon_bars` bars with a dead band,
// -1 / 0 / +1 (Int8). Three classes keep the information; the binary "up vs not up" target of
// the classifier is `label == 1`. The forward window never crosses into the next partition (a
// partition must be computable at its own close), so the day's last bars have a null label.

export interface FeatureColumns {
  rowCount: number;
  barStartNanos: BigInt64Array;
  symbol: string[];
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  vwap: Float64Array;
  tradeCount: Int32Array;
  /** One column per entry of `return_horizons_bars`: ln(close[t] / close[t-h]). */
  returns: Float64Array[];
  realizedVolatility: Float64Array;
  vwapDeviation: Float64Array;
  tradeSignImbalance: Float64Array;
  highLowRange: Float64Array;
  volumeZscore: Float64Array;
  forwardReturn: Float64Array;
  label: Int8Array;
  labelValid: Uint8Array;
}

function nonEmptyCells(bars: DayBars, symbolId: number): number[] {
  const cells: number[] = [];
  const first = symbolId * bars.barsPerDay;
  for (let cell = first; cell < first + bars.barsPerDay; cell += 1) if ((bars.tradeCount[cell] as number) > 0) cells.push(cell);
  return cells;
}

interface Series {
  bars: DayBars;
  cells: number[];
}

function allocate(rowCount: number, horizons: number): FeatureColumns {
  const float = () => new Float64Array(rowCount);
  return {
    rowCount, barStartNanos: new BigInt64Array(rowCount), symbol: new Array<string>(rowCount),
    open: float(), high: float(), low: float(), close: float(), volume: float(), vwap: float(),
    tradeCount: new Int32Array(rowCount), returns: Array.from({ length: horizons }, float),
    realizedVolatility: float(), vwapDeviation: float(), tradeSignImbalance: float(), highLowRange: float(),
    volumeZscore: float(), forwardReturn: float(), label: new Int8Array(rowCount), labelValid: new Uint8Array(rowCount),
  };
}

/** Features of every non-empty bar of `today`, sorted by symbol then bar start. */
export function computeFeatures(today: DayBars, previous: DayBars | null, params: TickFeatureParams): FeatureColumns {
  const lookback = lookbackBars(params);
  const previousIds = new Map(previous?.symbolNames.map((name, id) => [name, id]) ?? []);
  const order = today.symbolNames.map((name, id) => ({ name, id })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const perSymbol = order.map(({ name, id }) => {
    const previousId = previousIds.get(name);
    const history = previous && previousId !== undefined ? nonEmptyCells(previous, previousId).slice(-lookback) : [];
    return { name, history: { bars: previous as DayBars, cells: history }, today: { bars: today, cells: nonEmptyCells(today, id) } };
  });
  const rowCount = perSymbol.reduce((sum, symbol) => sum + symbol.today.cells.length, 0);
  const output = allocate(rowCount, params.return_horizons_bars.length);
  let offset = 0;
  for (const symbol of perSymbol) {
    writeSymbolFeatures(symbol.name, symbol.history, symbol.today, params, output, offset);
    offset += symbol.today.cells.length;
  }
  return output;
}

function gather(history: Series, today: Series, column: "close" | "high" | "low" | "volume" | "notional" | "signedVolume"): Float64Array {
  const values = new Float64Array(history.cells.length + today.cells.length);
  history.cells.forEach((cell, index) => (values[index] = history.bars[column][cell] as number));
  today.cells.forEach((cell, index) => (values[history.cells.length + index] = today.bars[column][cell] as number));
  return values;
}

function writeSymbolFeatures(name: string, history: Series, today: Series, params: TickFeatureParams, out: FeatureColumns, offset: number): void {
  const first = history.cells.length;
  const length = first + today.cells.length;
  const close = gather(history, today, "close");
  const volume = gather(history, today, "volume");
  const logReturn = new Float64Array(length).fill(Number.NaN);
  for (let index = 1; index < length; index += 1) logReturn[index] = Math.log((close[index] as number) / (close[index - 1] as number));
  const volatilityWindow = params.volatility_window_bars;
  const zscoreWindow = params.volume_zscore_window_bars;
  const deadBand = params.dead_band_bps * 1e-4;
  const horizon = params.label_horizon_bars;
  const dayStart = BigInt(Date.parse(`${today.bars.date}T00:00:00Z`)) * 1_000_000n;
  const barsPerDay = today.bars.barsPerDay;
  const barNanos = BigInt(today.bars.barNanos);
  for (let index = first; index < length; index += 1) {
    const row = offset + index - first;
    const cell = today.cells[index - first] as number;
    const barClose = close[index] as number;
    const barVolume = volume[index] as number;
    const vwap = (today.bars.notional[cell] as number) / barVolume;
    out.barStartNanos[row] = dayStart + BigInt(cell % barsPerDay) * barNanos;
    out.symbol[row] = name;
    out.open[row] = today.bars.open[cell] as number;
    out.high[row] = today.bars.high[cell] as number;
    out.low[row] = today.bars.low[cell] as number;
    out.close[row] = barClose;
    out.volume[row] = barVolume;
    out.vwap[row] = vwap;
    out.tradeCount[row] = today.bars.tradeCount[cell] as number;
    params.return_horizons_bars.forEach((lag, column) => {
      (out.returns[column] as Float64Array)[row] = index >= lag ? Math.log(barClose / (close[index - lag] as number)) : Number.NaN;
    });
    let squares = Number.NaN;
    if (index >= volatilityWindow) {
      squares = 0;
      for (let back = index - volatilityWindow + 1; back <= index; back += 1) squares += (logReturn[back] as number) ** 2;
    }
    out.realizedVolatility[row] = Math.sqrt(squares);
    out.vwapDeviation[row] = barClose / vwap - 1;
    out.tradeSignImbalance[row] = (today.bars.signedVolume[cell] as number) / barVolume;
    out.highLowRange[row] = Math.log((today.bars.high[cell] as number) / (today.bars.low[cell] as number));
    out.volumeZscore[row] = rollingZscore(volume, index, zscoreWindow);
    const forward = index + horizon < length ? Math.log((close[index + horizon] as number) / barClose) : Number.NaN;
    out.forwardReturn[row] = forward;
    out.labelValid[row] = Number.isNaN(forward) ? 0 : 1;
    out.label[row] = forward > deadBand ? 1 : forward < -deadBand ? -1 : 0;
  }
}

/** (v[t] - mean) / sample std over the `window` values ending at t; two passes for accuracy. */
function rollingZscore(values: Float64Array, index: number, window: number): number {
  if (index < window - 1) return Number.NaN;
  let sum = 0;
  for (let back = index - window + 1; back <= index; back += 1) sum += values[back] as number;
  const mean = sum / window;
  let squares = 0;
  for (let back = index - window + 1; back <= index; back += 1) squares += ((values[back] as number) - mean) ** 2;
  const deviation = Math.sqrt(squares / (window - 1));
  return deviation > 0 ? ((values[index] as number) - mean) / deviation : Number.NaN;
}
