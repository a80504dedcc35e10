/** The room ids of an `m.direct` content: `{ user id: [room id, …] }`, anything else ignored. */
export function directRoomIds(content: unknown): string[] {
  if (typeof content !== "object" || content === null || Array.isArray(content)) return [];
  const out: string[] = [];
  for (const rooms of Object.values(content)) if (Array.isArray(rooms)) for (const r of rooms) if (typeof r === "string") out.push(r);
  return out;
}
