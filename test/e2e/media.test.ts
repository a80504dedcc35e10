/**
 * Media as a client uses it (spec: Client-Server § Content repository): alice uploads a picture
 * with matrix-js-sdk and sends it as m.image; bob reads the event, downloads the picture and
 * fetches thumbnails through the authenticated /_matrix/client/v1/media URLs the SDK builds. The
 * thumbnails are measured from their bytes.
 */
import * as sdk from "matrix-js-sdk";
import { beforeAll, describe, expect, it } from "vitest";
import { imageSize, isReddish, pixelAt, png } from "../support/images";
import { registerUser, uniqueUsername, type Account } from "./support/client";
import { sharedServer } from "./support/context";

const { baseUrl } = sharedServer();

let alice: Account;
let bob: Account;

beforeAll(async () => {
  [alice, bob] = await Promise.all([
    registerUser(baseUrl, { username: uniqueUsername("alice") }),
    registerUser(baseUrl, { username: uniqueUsername("bob") }),
  ]);
});

/** GET with bob's access token in the Authorization header, as clients do for authenticated media. */
async function authedGet(url: string, account: Account): Promise<{ status: number; bytes: Uint8Array; headers: Headers }> {
  const res = await fetch(url, { headers: { Authorization: `Bearer ${account.accessToken}` } });
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()), headers: res.headers };
}

describe("an image sent in a room", () => {
  it("is uploaded by one client, then downloaded and thumbnailed by another", async () => {
    const picture = png(640, 480);
    const { content_uri: mxc } = await alice.client.uploadContent(new Blob([picture], { type: "image/png" }), { name: "photo.png", type: "image/png" });
    expect(mxc).toMatch(/^mxc:\/\/[^/]+\/[A-Za-z0-9_-]+$/);

    const { room_id: roomId } = await alice.client.createRoom({ preset: sdk.Preset.PublicChat });
    await bob.client.joinRoom(roomId);
    await alice.client.sendMessage(roomId, {
      msgtype: sdk.MsgType.Image,
      body: "photo.png",
      url: mxc,
      info: { mimetype: "image/png", size: picture.byteLength, w: 640, h: 480 },
    });

    // Bob finds the image in the room's history.
    const history = await bob.client.createMessagesRequest(roomId, null, 20, sdk.Direction.Backward);
    const image = history.chunk.find((ev) => ev.type === "m.room.message" && ev.content.msgtype === sdk.MsgType.Image);
    expect(image?.content.url).toBe(mxc);
    const url = image!.content.url as string;

    // Authenticated download, with the URL the SDK builds.
    const downloadUrl = bob.client.mxcUrlToHttp(url, undefined, undefined, undefined, false, true, true);
    expect(downloadUrl).toContain("/_matrix/client/v1/media/download/");
    const download = await authedGet(downloadUrl!, bob);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(download.bytes).equals(Buffer.from(picture))).toBe(true);

    // Without the token the authenticated URL is refused.
    expect((await fetch(downloadUrl!)).status).toBe(401);

    // Thumbnails: the requested size, computed from the 640x480 original.
    const scaleUrl = bob.client.mxcUrlToHttp(url, 64, 64, "scale", false, true, true);
    expect(scaleUrl).toContain("/_matrix/client/v1/media/thumbnail/");
    const scaled = await authedGet(scaleUrl!, bob);
    expect(scaled.status).toBe(200);
    expect(imageSize(scaled.bytes)).toEqual({ type: "png", width: 64, height: 48 });
    expect(isReddish(pixelAt(scaled.bytes, 0, 24))).toBe(true);

    const cropped = await authedGet(bob.client.mxcUrlToHttp(url, 64, 64, "crop", false, true, true)!, bob);
    expect(cropped.status).toBe(200);
    expect(cropped.headers.get("content-disposition")).toBe('inline; filename="thumbnail.png"');
    expect(imageSize(cropped.bytes)).toEqual({ type: "png", width: 64, height: 64 });
    expect(isReddish(pixelAt(cropped.bytes, 0, 32))).toBe(false);
  });

  it("is not served on the frozen unauthenticated paths", async () => {
    const { content_uri: mxc } = await alice.client.uploadContent(new Blob([png(40, 30)], { type: "image/png" }), { type: "image/png" });
    const legacy = alice.client.mxcUrlToHttp(mxc, 32, 32, "crop", false, true, false);
    expect(legacy).toContain("/_matrix/media/v3/thumbnail/");
    const res = await fetch(legacy!);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { errcode: string }).errcode).toBe("M_NOT_FOUND");
  });
});
