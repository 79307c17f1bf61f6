// The logged-in matrix-js-sdk client, set up the way Element sets itself up:
// Rust crypto, cross-signing bootstrapped, keys only for cross-signed devices.
import { createClient, ClientEvent, SyncState, EventType } from "matrix-js-sdk";
import { OnlySignedDevicesIsolationMode } from "matrix-js-sdk/lib/crypto-api/index.js";
import { waitFor } from "./wait.js";

let client = null;

export function needClient() {
  if (!client) throw new Error("not logged in");
  return client;
}

// login logs in with a password or an access token, starts Rust crypto (in
// memory) and syncing, and returns after the first sync once the device's keys
// are on the server. beforeStart(client) runs before syncing starts, so that
// listeners miss nothing. With crossSigning (needs the password) it bootstraps
// the user's cross-signing and excludes insecure devices like Element does.
export async function login({ baseUrl, user, password, accessToken, crossSigning }, beforeStart) {
  if (client) throw new Error("already logged in");
  let userId, deviceId, token;
  if (accessToken) {
    const who = await createClient({ baseUrl, accessToken }).whoami();
    [userId, deviceId, token] = [who.user_id, who.device_id, accessToken];
  } else {
    const res = await createClient({ baseUrl }).loginRequest({
      type: "m.login.password",
      identifier: { type: "m.id.user", user },
      password,
      initial_device_display_name: "browser call harness",
    });
    [userId, deviceId, token] = [res.user_id, res.device_id, res.access_token];
  }
  const c = createClient({ baseUrl, userId, deviceId, accessToken: token });
  await c.initRustCrypto({ useIndexedDB: false });
  beforeStart?.(c);
  const prepared = new Promise((resolve, reject) => {
    const onSync = (state, _prev, data) => {
      if (state === SyncState.Prepared || state === SyncState.Syncing) {
        c.off(ClientEvent.Sync, onSync);
        resolve();
      }
      if (state === SyncState.Error && data?.error?.errcode) {
        c.off(ClientEvent.Sync, onSync);
        reject(data.error);
      }
    };
    c.on(ClientEvent.Sync, onSync);
  });
  await c.startClient({ initialSyncLimit: 20 });
  let timer;
  const tooLong = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("no first sync after 30 s")), 30000);
  });
  await Promise.race([prepared, tooLong]).finally(() => clearTimeout(timer));
  client = c;
  // Others can encrypt for this device as soon as login returns.
  const deadline = Date.now() + 15000;
  while (!(await c.downloadKeysForUsers([userId])).device_keys?.[userId]?.[deviceId]) {
    if (Date.now() > deadline) throw new Error("own device keys never reached the server");
    await new Promise((r) => setTimeout(r, 100));
  }
  if (crossSigning) {
    if (!password) throw new Error("bootstrapping cross-signing needs the password");
    const crypto = c.getCrypto();
    await crypto.bootstrapCrossSigning({
      authUploadDeviceSigningKeys: (makeRequest) =>
        makeRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: userId }, password }),
    });
    if (!(await crypto.isCrossSigningReady())) throw new Error("cross-signing is not ready after bootstrapping");
    crypto.setDeviceIsolationMode(new OnlySignedDevicesIsolationMode());
  }
  return { userId, deviceId };
}

function joinedRoom(roomId, timeoutMs = 15000) {
  return waitFor(() => {
    const room = client.getRoom(roomId);
    return room && room.getMyMembership() === "join" ? room : undefined;
  }, timeoutMs, `own membership join in ${roomId}`);
}

// createDM creates a direct chat with userId as Element does and returns once
// the creator is in it (and, if encrypted, the room's encryption is known).
export async function createDM({ userId, encrypted }) {
  const c = needClient();
  const { room_id: roomId } = await c.createRoom({
    is_direct: true,
    preset: "trusted_private_chat",
    invite: [userId],
    initial_state: encrypted
      ? [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }]
      : [],
  });
  const direct = { ...(c.getAccountData(EventType.Direct)?.getContent() ?? {}) };
  direct[userId] = [...(direct[userId] ?? []).filter((r) => r !== roomId), roomId];
  await c.setAccountData(EventType.Direct, direct);
  const room = await joinedRoom(roomId);
  if (encrypted) await waitFor(() => (room.hasEncryptionStateEvent() ? true : undefined), 15000, "encryption state");
  return { roomId };
}

// join joins a room (waiting first for the invite to arrive, if it has not)
// and returns once the client sees itself joined.
export async function join({ roomId, viaServers, timeoutMs = 30000 }) {
  const c = needClient();
  await waitFor(() => (c.getRoom(roomId) ? true : undefined), timeoutMs, `invite to ${roomId}`);
  await c.joinRoom(roomId, viaServers ? { viaServers } : undefined);
  await joinedRoom(roomId);
  return {};
}

// waitJoined waits until userId is joined to roomId in the client's view.
export async function waitJoined({ roomId, userId, timeoutMs = 30000 }) {
  const c = needClient();
  await waitFor(
    () => (c.getRoom(roomId)?.getMember(userId)?.membership === "join" ? true : undefined),
    timeoutMs,
    `${userId} joined in ${roomId}`,
  );
  return {};
}

// callEvents lists the m.call.* events of roomId's live timeline, with the type
// they had on the wire (m.room.encrypted when they came encrypted).
export function callEvents({ roomId }) {
  const room = needClient().getRoom(roomId);
  return (room?.getLiveTimeline().getEvents() ?? [])
    .filter((e) => e.getType().startsWith("m.call."))
    .map((e) => ({
      type: e.getType(),
      wireType: e.getWireType(),
      sender: e.getSender(),
      callId: e.getContent().call_id ?? "",
    }));
}

// sendText sends a text message (encrypted in an encrypted room) and returns
// its event ID.
export async function sendText({ roomId, body }) {
  const { event_id: eventId } = await needClient().sendTextMessage(roomId, body);
  return { eventId };
}
