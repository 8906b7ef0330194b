// PostGraphile v5 as an analyst would set it up for aggregates: the comparison's configuration plus
// @graphile/pg-aggregates (sum, average, min, max, groupedAggregates on every connection).
import base from "./graphile.config.mjs";
import { PgAggregatesPreset } from "@graphile/pg-aggregates";

export default { ...base, extends: [...base.extends, PgAggregatesPreset] };
