import { readFile } from "node:fs/promises";
import { decode } from "fast-png";

export interface PngFacts {
  width: number;
  height: number;
  /** Pixels that are not the white background. */
  inked: number;
  /** Pixels darker than mid-grey in every channel (text, black lines, dark image pixels). */
  dark: number;
  /** Distinct colours, counted up to 10 000. */
  colours: number;
}

/** Decodes a PNG with an independent decoder (not the renderer's own) and counts what is drawn. */
export async function pngFacts(file: string | Buffer): Promise<PngFacts> {
  const image = decode(typeof file === "string" ? await readFile(file) : file);
  const channels = image.channels;
  const data = image.data;
  let inked = 0;
  let dark = 0;
  const colours = new Set<number>();
  for (let at = 0; at < data.length; at += channels) {
    const [red, green, blue] = channels >= 3 ? [data[at]!, data[at + 1]!, data[at + 2]!] : [data[at]!, data[at]!, data[at]!];
    if (red < 250 || green < 250 || blue < 250) inked += 1;
    if (red < 128 && green < 128 && blue < 128) dark += 1;
    if (colours.size < 10_000) colours.add((red << 16) | (green << 8) | blue);
  }
  return { width: image.width, height: image.height, inked, dark, colours: colours.size };
}
