// Symbols arrive as UTF-8 bytes in an Arrow Utf8 column. Decoding every row to a JavaScript
// string costs far more than the rest of the pipeline, so short symbols (up to 6 bytes, which
// covers tickers) are packed into an exact integer key and looked up without allocating.

const MAX_PACKED_BYTES = 6;
const INITIAL_SLOTS = 64; // a power of two; grows by doubling at half full
const EMPTY = -1;

export class SymbolInterner {
  readonly names: string[] = [];
  private readonly codeByName = new Map<string, number>();
  private readonly decoder = new TextDecoder();
  // Open-addressing table from a packed short symbol to its code. The key is split into two
  // small integers (length and first two bytes; last four bytes) so that hashing and comparing
  // stay in 32-bit integer arithmetic: a Map keyed by the packed number boxed every key above 2^31
  // and was a quarter of the whole feature pipeline.
  private slotHigh = new Int32Array(INITIAL_SLOTS);
  private slotLow = new Int32Array(INITIAL_SLOTS);
  private slotCode = new Int32Array(INITIAL_SLOTS).fill(EMPTY);
  private slotsUsed = 0;

  intern(name: string): number {
    let code = this.codeByName.get(name);
    if (code === undefined) {
      code = this.names.length;
      this.names.push(name);
      this.codeByName.set(name, code);
    }
    return code;
  }

  /** Writes the code of each of `length` strings into `codes[start…]`. */
  internUtf8Column(offsets: Int32Array, bytes: Uint8Array, length: number, codes: Int32Array, start: number): void {
    let previousHigh = -1;
    let previousLow = 0;
    let previousCode = EMPTY;
    for (let row = 0; row < length; row += 1) {
      const begin = offsets[row] as number;
      const end = offsets[row + 1] as number;
      const byteLength = end - begin;
      if (byteLength > MAX_PACKED_BYTES) {
        codes[start + row] = this.intern(this.decoder.decode(bytes.subarray(begin, end)));
        continue;
      }
      // The length is part of the key so that "A" and "A\0" cannot collide. Bytes past the
      // end read as 0 (the packing of the loop this replaced), without a branch per byte.
      const b0 = byteLength > 0 ? (bytes[begin] as number) : 0;
      const b1 = byteLength > 1 ? (bytes[begin + 1] as number) : 0;
      const high = (byteLength << 16) | (b0 << 8) | b1;
      let low = 0;
      if (byteLength > 2) {
        low = (bytes[begin + 2] as number) << 24;
        if (byteLength > 3) low |= (bytes[begin + 3] as number) << 16;
        if (byteLength > 4) low |= (bytes[begin + 4] as number) << 8;
        if (byteLength > 5) low |= bytes[begin + 5] as number;
      }
      if (high === previousHigh && low === previousLow) {
        codes[start + row] = previousCode;
        continue;
      }
      let code = this.lookup(high, low);
      if (code === EMPTY) code = this.insert(high, low, this.intern(this.decoder.decode(bytes.subarray(begin, end))));
      codes[start + row] = code;
      previousHigh = high;
      previousLow = low;
      previousCode = code;
    }
  }

  private slotOf(high: number, low: number, mask: number): number {
    return (Math.imul(low, 0x9e3779b1) ^ Math.imul(high, 0x85ebca6b)) >>> 7 & mask;
  }

  private lookup(high: number, low: number): number {
    const mask = this.slotCode.length - 1;
    for (let slot = this.slotOf(high, low, mask); ; slot = (slot + 1) & mask) {
      const code = this.slotCode[slot] as number;
      if (code === EMPTY || (this.slotHigh[slot] === high && this.slotLow[slot] === low)) return code;
    }
  }

  private insert(high: number, low: number, code: number): number {
    if ((this.slotsUsed + 1) * 2 > this.slotCode.length) this.grow();
    const mask = this.slotCode.length - 1;
    let slot = this.slotOf(high, low, mask);
    while (this.slotCode[slot] !== EMPTY) slot = (slot + 1) & mask;
    this.slotHigh[slot] = high;
    this.slotLow[slot] = low;
    this.slotCode[slot] = code;
    this.slotsUsed += 1;
    return code;
  }

  private grow(): void {
    const [high, low, code] = [this.slotHigh, this.slotLow, this.slotCode];
    this.slotHigh = new Int32Array(code.length * 2);
    this.slotLow = new Int32Array(code.length * 2);
    this.slotCode = new Int32Array(code.length * 2).fill(EMPTY);
    this.slotsUsed = 0;
    for (let slot = 0; slot < code.length; slot += 1) if (code[slot] !== EMPTY) this.insert(high[slot] as number, low[slot] as number, code[slot] as number);
  }
}
