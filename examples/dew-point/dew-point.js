/**
 * The dew point of one weather reading, by the Magnus formula (Alduchov and Eskridge 1996
 * coefficients, good to about 0.4 °C from -40 °C to 50 °C). A CSV row arrives as an object of
 * strings keyed by the header: { station, time, temp_c, rh_pct }.
 */
const B = 17.625;
const C = 243.04; // °C

export default function dewPoint(row) {
  const temperature = Number(row.temp_c);
  const humidity = Number(row.rh_pct);
  if (!Number.isFinite(temperature)) throw new Error(`temp_c is not a number: ${row.temp_c}`);
  if (!(humidity > 0 && humidity <= 100))
    throw new Error(`rh_pct is not in (0, 100]: ${row.rh_pct}`);
  const gamma = Math.log(humidity / 100) + (B * temperature) / (C + temperature);
  const dewPointC = (C * gamma) / (B - gamma);
  return {
    station: row.station,
    time: row.time,
    dewPointC: Math.round(dewPointC * 10) / 10,
    // How close the air is to saturation: fog is likely below about 2.5 °C.
    spreadC: Math.round((temperature - dewPointC) * 10) / 10,
  };
}
