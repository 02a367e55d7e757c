// The world's countries as GeoJSON, from the `world-atlas` package (Natural Earth 1:110m,
// TopoJSON), each feature named by its ISO 3166-1 alpha-2 code — the code the `geoip`
// processor writes to `geo.country_iso_code` — through the ISO table of `i18n-iso-countries`.
// Bundled: no download at run time. Loaded with `import()` by the map only.

import type { FeatureCollection, Geometry } from "geojson";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import codes from "i18n-iso-countries/codes.json";
import countries from "world-atlas/countries-110m.json";

interface CountryProperties {
  name: string;
  title: string;
}

/** ISO 3166-1 numeric code (as world-atlas names its features) → alpha-2. */
const ALPHA2_BY_NUMERIC = new Map(codes.map((row) => [row[2] ?? "", row[0] ?? ""]));

export function worldGeoJson(): FeatureCollection<Geometry, CountryProperties> {
  const topology = countries as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>;
  const collection = feature(topology, topology.objects.countries);
  return {
    type: "FeatureCollection",
    features: collection.features.map((one) => {
      const numeric = String(one.id ?? "").padStart(3, "0");
      const alpha2 = ALPHA2_BY_NUMERIC.get(numeric) ?? `#${numeric}`;
      return { ...one, properties: { name: alpha2, title: one.properties.name } };
    }),
  };
}
