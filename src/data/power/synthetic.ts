import { DAY_MS, formatTimestamp, MINUTE_MS, POWER_HEADER } from "./format.js";
import { seededRandom } from "../random.js";

// Realistic synthetic household data in the exact UCI text format, for tests, benchmarks and
// the README quick start (the real file cannot be shipped). Shape: a daily profile with morning
// and evening peaks, a weekly pattern (weekends differ), winter above summer, appliance cycles
// on the three sub-meters (integer watt-hours, never more than the total), AR(1) noise, and
// outages written as rows of `?` like the real file (about 1% of rows).

export interface SyntheticOptions {
  days: number;
  seed: number;
  /** Naive timestamp of the first minute; default 2006-12-16 00:00 (the real file starts that day). */
  start?: number;
}


const DEFAULT_START = Date.UTC(2006, 11, 16);
// Missing rows as the real file writes them: six `?` and an empty last field.
const MISSING_VALUES = "?;?;?;?;?;?;";

/** Mean household load (kW, outside the sub-meters) by hour of day: night trough, morning and evening peaks. */
function dailyProfile(hourOfDay: number, weekend: boolean): number {
  const bump = (center: number, width: number, height: number) => height * Math.exp(-0.5 * ((hourOfDay - center) / width) ** 2);
  const morning = weekend ? bump(9.5, 1.6, 0.9) : bump(7.3, 0.9, 1.1);
  const midday = weekend ? bump(13, 2.0, 0.8) : bump(13, 1.5, 0.2);
  const evening = bump(20, 1.8, weekend ? 1.3 : 1.6);
  return 0.28 + morning + midday + evening;
}

/** Yields the file one day at a time: the header first, then each day's lines (`date` is the day's naive timestamp). */
export function* generatePowerDays(options: SyntheticOptions): Generator<{ date: number; text: string }> {
  const random = seededRandom(options.seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const start = options.start ?? DEFAULT_START;
  let noise = 0;
  let outageLeft = 0;
  const appliances = [0, 0, 0]; // minutes left in the current cycle of each sub-meter
  const applianceLevel = [0, 0, 0];
  yield { date: start, text: `${POWER_HEADER}\n` };
  for (let day = 0; day < options.days; day += 1) {
    const dayStart = start + day * DAY_MS;
    const weekday = new Date(dayStart).getUTCDay();
    const weekend = weekday === 0 || weekday === 6;
    const dayOfYear = (dayStart - Date.UTC(new Date(dayStart).getUTCFullYear(), 0, 1)) / DAY_MS;
    const season = 1 + 0.35 * Math.cos((2 * Math.PI * (dayOfYear - 15)) / 365.25);
    const dayLevel = Math.exp(0.15 * gaussian()); // some days are busier than others
    const { date } = formatTimestamp(dayStart);
    const lines: string[] = [];
    for (let minute = 0; minute < 1440; minute += 1) {
      const time = formatTimestamp(dayStart + minute * MINUTE_MS).time;
      if (outageLeft === 0 && random() < 0.0001) outageLeft = random() < 0.1 ? 60 + Math.floor(random() * 2000) : 1 + Math.floor(random() * 30);
      if (outageLeft > 0) {
        outageLeft -= 1;
        lines.push(`${date};${time};${MISSING_VALUES}`);
        continue;
      }
      const hourOfDay = minute / 60;
      noise = 0.97 * noise + 0.08 * gaussian();
      const base = Math.max(0.08, dailyProfile(hourOfDay, weekend) * season * dayLevel * Math.exp(noise));
      stepAppliances(random, hourOfDay, weekend, season, appliances, applianceLevel);
      const subMeters = applianceLevel.map((level) => Math.round(level));
      const activeKilowatts = base + (subMeters[0]! + subMeters[1]! + subMeters[2]!) * 0.06;
      const reactive = Math.max(0, 0.08 + 0.04 * gaussian() + (subMeters[1]! > 0 ? 0.15 : 0));
      const voltage = 241 + 2.5 * Math.sin((2 * Math.PI * (hourOfDay - 4)) / 24) - 0.6 * activeKilowatts + 0.8 * gaussian();
      const intensity = Math.round((Math.hypot(activeKilowatts, reactive) * 1000) / voltage / 0.2) * 0.2;
      lines.push(`${date};${time};${activeKilowatts.toFixed(3)};${reactive.toFixed(3)};${voltage.toFixed(3)};${intensity.toFixed(3)};${subMeters.map((value) => value.toFixed(3)).join(";")}`);
    }
    yield { date: dayStart, text: `${lines.join("\n")}\n` };
  }
}

/** Kitchen (evening meals), laundry (weekend mornings), water heater (night tariff, morning): on/off cycles in Wh per minute. */
function stepAppliances(random: () => number, hourOfDay: number, weekend: boolean, season: number, left: number[], level: number[]): void {
  const chances = [
    hourOfDay > 18 && hourOfDay < 21 ? 0.01 : hourOfDay > 11.5 && hourOfDay < 13 && weekend ? 0.01 : 0.0003,
    weekend && hourOfDay > 8 && hourOfDay < 14 ? 0.006 : 0.0008,
    (hourOfDay > 5.5 && hourOfDay < 8.5) || hourOfDay > 22.5 ? 0.02 * season : 0.002,
  ];
  const durations = [25, 90, 40];
  const levels = [36, 30, 17.5];
  for (let index = 0; index < 3; index += 1) {
    if (left[index]! > 0) left[index]! -= 1;
    else if (random() < chances[index]!) left[index] = Math.ceil(durations[index]! * (0.5 + random()));
    level[index] = left[index]! > 0 ? levels[index]! * (0.85 + 0.3 * random()) : index === 1 && random() < 0.3 ? 1 : 0; // the fridge on meter 2
  }
}
