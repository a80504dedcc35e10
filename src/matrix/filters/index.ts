/** Filters (spec: Client-Server § Filtering): the model, the wire validator, matching and event_fields. */
export * from "./model";
export * from "./match";
export * from "./wire";
export * from "./event-fields";
