import { createRequire } from "node:module";
import path from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

// Vega-Lite spec → Vega → SVG (Vega's headless renderer: no canvas, no browser) → PNG (resvg).
// Text is drawn with the DejaVu fonts shipped as an npm package and loaded by path, never with
// the machine's fonts: a pod image has none, and a laptop's would change the pixels.

export const REPORT_FONT_FAMILY = "DejaVu Sans";
/** Device pixels per chart pixel: readable when the PNG is opened in the MLflow UI. */
const PIXEL_RATIO = 2;

const require = createRequire(import.meta.url);
const FONT_DIRECTORY = path.join(path.dirname(require.resolve("dejavu-fonts-ttf/package.json")), "ttf");
const FONT_FILES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((file) => path.join(FONT_DIRECTORY, file));

export interface RenderedChart {
  png: Buffer;
  width: number;
  height: number;
}

/** Everything a chart shares: the font, a white background (PNG viewers differ on transparency). */
const CHART_CONFIG = { font: REPORT_FONT_FAMILY, background: "white", view: { stroke: "#888" } } as const;

export async function renderChart(spec: TopLevelSpec): Promise<RenderedChart> {
  const vegaSpec = compile({ ...spec, config: { ...CHART_CONFIG, ...spec.config } } as TopLevelSpec).spec;
  const view = new View(parse(vegaSpec), { renderer: "none" });
  let svg: string;
  try {
    svg = await view.toSVG(PIXEL_RATIO);
  } finally {
    view.finalize();
  }
  const image = new Resvg(svg, { font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: REPORT_FONT_FAMILY }, background: "white" }).render();
  return { png: image.asPng(), width: image.width, height: image.height };
}
