/** Push rules (spec: Client-Server § Push Notifications): defaults, rulesets and evaluation. */
export * from "./types";
export * from "./glob";
export * from "./property-path";
export * from "./conditions";
export * from "./default-rules";
export * from "./ruleset";
export * from "./evaluate";
export * from "./power-levels";
