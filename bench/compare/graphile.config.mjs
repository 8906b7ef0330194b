// PostGraphile v5 over the same PostgreSQL database as childhub, configured as a user would: the amber
// preset, simplified names, no extra plugins. Its connection comes from DATABASE_URL; it serves on PORT.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { PgSimplifyInflectionPreset } from "@graphile/simplify-inflection";

export default {
  extends: [PostGraphileAmberPreset, PgSimplifyInflectionPreset],
  // Filter by any column, as a user who needs `isPublished` would set it up.
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
    }),
  ],
  grafserv: { port: Number(process.env.PORT ?? 5678), graphiql: false },
  grafast: { explain: false },
};
