import { describe, expect, it } from "vitest";
import type { JsonObject } from "../canonical-json";
import { signJson, signingKeyFromSeed } from "../signing";
import { thirdPartyInvitePublicKeys, verifyThirdPartyInviteSignature } from "./third-party-invite";
import { ALICE, BOB, standardRoom } from "./test-room";

const seed = (n: number) => new Uint8Array(32).fill(n);

async function setup(publicKeyField: "public_key" | "public_keys" = "public_key") {
  const idKey = await signingKeyFromSeed(seed(7), "id.test", "ed25519:0");
  const otherKey = await signingKeyFromSeed(seed(9), "id.test", "ed25519:0");
  const room = standardRoom("10", "invite");
  const content: JsonObject =
    publicKeyField === "public_key"
      ? { display_name: "b…", key_validity_url: "https://id.test/v", public_key: idKey.publicKey }
      : { display_name: "b…", key_validity_url: "https://id.test/v", public_key: otherKey.publicKey, public_keys: [{ public_key: "garbage" }, { public_key: idKey.publicKey }] };
  const invite = room.send({ type: "m.room.third_party_invite", sender: ALICE, state_key: "tok", content });
  const signed = await signJson({ mxid: BOB, token: "tok", sender: ALICE } as JsonObject, idKey);
  const forged = await signJson({ mxid: BOB, token: "tok", sender: ALICE } as JsonObject, await signingKeyFromSeed(seed(3), "id.test", "ed25519:0"));
  const member = (s: JsonObject) =>
    room.build({ type: "m.room.member", sender: ALICE, state_key: BOB, content: { membership: "invite", third_party_invite: { display_name: "b…", signed: s } } });
  return { room, invite, signed, forged, member };
}

describe("third-party invite signatures", () => {
  it("lists public_key then public_keys", async () => {
    const { invite } = await setup("public_keys");
    expect(thirdPartyInvitePublicKeys(invite)).toHaveLength(3);
  });
  it("verifies a signature made with the invite's public_key", async () => {
    const { invite, signed, member } = await setup();
    expect(await verifyThirdPartyInviteSignature(member(signed), invite)).toBe(true);
  });
  it("verifies against any of public_keys", async () => {
    const { invite, signed, member } = await setup("public_keys");
    expect(await verifyThirdPartyInviteSignature(member(signed), invite)).toBe(true);
  });
  it("refuses a signature by another key, a tampered signed block, or no signatures", async () => {
    const { invite, signed, forged, member } = await setup();
    expect(await verifyThirdPartyInviteSignature(member(forged), invite)).toBe(false);
    expect(await verifyThirdPartyInviteSignature(member({ ...signed, mxid: "@mallory:m.test" }), invite)).toBe(false);
    expect(await verifyThirdPartyInviteSignature(member({ mxid: BOB, token: "tok" }), invite)).toBe(false);
  });
  it("feeds checkEventAuth through options.verifyThirdPartyInvite", async () => {
    const { room, invite, signed, forged, member } = await setup();
    const good = member(signed);
    const ok = await verifyThirdPartyInviteSignature(good, invite);
    expect(room.check(good, { verifyThirdPartyInvite: () => ok }).ok).toBe(true);
    const bad = member(forged);
    const notOk = await verifyThirdPartyInviteSignature(bad, invite);
    expect(room.check(bad, { verifyThirdPartyInvite: () => notOk }).ok).toBe(false);
  });
});
