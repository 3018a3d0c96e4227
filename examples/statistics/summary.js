/**
 * Summary statistics and a linear trend for one station's yearly series, computed with the npm
 * library simple-statistics. The sandbox loads no other file, so this is bundled with esbuild
 * into one module before it is submitted (see README.md).
 *
 * @param {{ station: string, years: number[], values: number[] }} series
 */
import {
  linearRegression,
  mean,
  median,
  quantile,
  sampleCorrelation,
  sampleStandardDeviation,
} from 'simple-statistics';

const round = (x, digits = 3) => Number(x.toFixed(digits));

export default function summarize({ station, years, values }) {
  if (years.length !== values.length || values.length < 3) {
    throw new Error(`${station}: need as many years as values, and at least 3`);
  }
  const points = years.map((year, i) => [year, values[i]]);
  const { m: perYear } = linearRegression(points);
  return {
    station,
    n: values.length,
    mean: round(mean(values)),
    median: round(median(values)),
    sd: round(sampleStandardDeviation(values)),
    q1: round(quantile(values, 0.25)),
    q3: round(quantile(values, 0.75)),
    trendPerDecade: round(perYear * 10),
    r: round(sampleCorrelation(years, values)),
  };
}
