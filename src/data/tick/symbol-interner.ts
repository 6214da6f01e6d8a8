// Symbols arrive as UTF-8 bytes in an Arrow Utf8 column. Decoding every row to a JavaScript
// string costs far more than the rest of the pipeline, so short symbols (up to 6 bytes, which
// covers tickers) are packed into one exact integer key and looked up without allocating.

const MAX_PACKED_BYTES = 6;

export class SymbolInterner {
  readonly names: string[] = [];
  private readonly codeByName = new Map<string, number>();
  private readonly codeByPackedKey = new Map<number, number>();
  private readonly decoder = new TextDecoder();

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
    const packed = this.codeByPackedKey;
    for (let row = 0; row < length; row += 1) {
      const begin = offsets[row] as number;
      const end = offsets[row + 1] as number;
      const byteLength = end - begin;
      if (byteLength <= MAX_PACKED_BYTES) {
        // Length is folded in so "A" and "A\0" cannot collide; the key stays below 2^53.
        let key = byteLength;
        for (let index = begin; index < end; index += 1) key = key * 256 + (bytes[index] as number);
        let code = packed.get(key);
        if (code === undefined) {
          code = this.intern(this.decoder.decode(bytes.subarray(begin, end)));
          packed.set(key, code);
        }
        codes[start + row] = code;
      } else {
        codes[start + row] = this.intern(this.decoder.decode(bytes.subarray(begin, end)));
      }
    }
  }
}
