// A browser participant for tests/browser: livekit-client in headless Chromium.
//   ?url=&token=            publish a colour-quadrant canvas and a 660 Hz tone, then send
//                           data, text streams, a file, attributes, RPCs and a data
//                           track's frames to "godot" (and reads godot's data track); it
//                           mutes its microphone when "godot" mutes one
//   ?url=&token=&viewer=1   only watch the publishing browser peer "js"
//   ...&e2ee=<key>          with end-to-end encryption, this shared key
// Everything it observes is in window.results; window.observe() adds what it sees and hears.
"use strict";
const params = new URLSearchParams(location.search);
const results = { events: [] };
window.results = results;

const QUADRANTS = {
  top_left: [0.25, 0.25], top_right: [0.75, 0.25], bottom_left: [0.25, 0.75], bottom_right: [0.75, 0.75],
};
// the colours of godot_livekit_dev.patterns.QUADRANT_COLORS
const COLOURS = {
  top_left: [230, 30, 30], top_right: [30, 200, 40], bottom_left: [30, 60, 230], bottom_right: [240, 240, 240],
};

function sampleVideo() {
  const el = window.videoElement;
  if (!el || !el.videoWidth) return null;
  const canvas = document.createElement("canvas");
  canvas.width = el.videoWidth;
  canvas.height = el.videoHeight;
  const g = canvas.getContext("2d");
  g.drawImage(el, 0, 0);
  const out = { size: [canvas.width, canvas.height] };
  for (const [name, [fx, fy]] of Object.entries(QUADRANTS)) {
    const d = g.getImageData(Math.floor(canvas.width * fx), Math.floor(canvas.height * fy), 1, 1).data;
    out[name] = [d[0], d[1], d[2]];
  }
  return out;
}

function dominantFrequency() {
  const analyser = window.analyser;
  if (!analyser) return null;
  const bins = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(bins);
  let best = 1;
  for (let i = 2; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
  return { hz: (best * window.audioContext.sampleRate) / analyser.fftSize, db: bins[best] };
}

window.observe = () => ({ ...results, video: sampleVideo(), audio: dominantFrequency() });

function drawQuadrants(g, width, height) {
  const w = width / 2, h = height / 2;
  const origins = { top_left: [0, 0], top_right: [w, 0], bottom_left: [0, h], bottom_right: [w, h] };
  for (const [name, [x, y]] of Object.entries(origins)) {
    const [r, gr, b] = COLOURS[name];
    g.fillStyle = `rgb(${r},${gr},${b})`;
    g.fillRect(x, y, w, h);
  }
}

async function main() {
  const { Room, RoomEvent, LocalVideoTrack, LocalAudioTrack, Track } = LivekitClient;
  const viewer = Boolean(params.get("viewer"));
  const sharedKey = params.get("e2ee");
  let room;
  if (sharedKey) {
    // end-to-end encryption with a shared key, as LiveKit's web docs set it up
    const keyProvider = new LivekitClient.ExternalE2EEKeyProvider();
    const worker = new Worker(new URL("../node_modules/livekit-client/dist/livekit-client.e2ee.worker.js", location.href));
    room = new Room({ e2ee: { keyProvider, worker } });
    await keyProvider.setKey(sharedKey);
    await room.setE2EEEnabled(true);
  } else {
    room = new Room();
  }
  room.on(RoomEvent.ParticipantEncryptionStatusChanged, (encrypted, participant) => {
    results.encryption = results.encryption || {};
    results.encryption[participant ? participant.identity : "?"] = encrypted;
  });
  room.on(RoomEvent.DataReceived, (payload, participant, kind, topic) => {
    results.data = { text: new TextDecoder().decode(payload), from: participant && participant.identity, topic };
  });
  room.registerTextStreamHandler("chat-back", async (reader, info) => {
    results.text = { text: await reader.readAll(), from: info.identity, topic: reader.info.topic };
  });
  room.registerByteStreamHandler("bytes-back", async (reader, info) => {
    const chunks = await reader.readAll();
    let length = 0, sum = 0;
    for (const chunk of chunks) {
      length += chunk.length;
      for (const b of chunk) sum = (sum + b) % 65536;
    }
    results.bytes = { length, sum, name: reader.info.name, from: info.identity };
  });
  room.registerRpcMethod("js-echo", async (data) => `js:${data.payload}:${data.callerIdentity}`);
  room.registerRpcMethod("js-fail", async () => {
    throw new LivekitClient.RpcError(43, "js says no");
  });
  room.on(RoomEvent.ParticipantAttributesChanged, (changed, participant) => {
    if (participant.identity !== room.localParticipant.identity) {
      results.attributes = { changed, from: participant.identity };
    }
  });
  room.on(RoomEvent.TrackMuted, (publication, participant) => {
    if (participant.identity !== room.localParticipant.identity) {
      results.muted = { kind: publication.kind, from: participant.identity };
      if (window.microphone) window.microphone.mute(); // answer a mute with a mute
    }
  });
  // data tracks: read "godot"'s, newest frame and how many arrived
  room.on(RoomEvent.DataTrackPublished, async (track) => {
    if (viewer || track.publisherIdentity !== "godot") return;
    const reader = track.subscribe().getReader();
    let count = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      count += 1;
      results.dataTrack = {
        name: track.info.name,
        count,
        text: new TextDecoder().decode(value.payload),
        timestamp: value.userTimestamp === undefined ? null : Number(value.userTimestamp),
      };
    }
  });
  room.on(RoomEvent.TrackSubscribed, (track, _publication, participant) => {
    results.events.push(`subscribed ${track.kind} ${participant.identity}`);
    if (viewer && participant.identity !== "js") return;
    const element = track.attach();
    element.muted = true;
    document.body.appendChild(element);
    if (track.kind === "video") {
      window.videoElement = element;
    } else {
      const context = new AudioContext();
      const analyser = context.createAnalyser();
      analyser.fftSize = 8192;
      context.createMediaStreamSource(new MediaStream([track.mediaStreamTrack])).connect(analyser);
      window.analyser = analyser;
      window.audioContext = context;
    }
  });
  await room.connect(params.get("url"), params.get("token"));
  results.connected = true;
  if (viewer) return;

  const canvas = document.createElement("canvas");
  canvas.width = 320;
  canvas.height = 180;
  const g = canvas.getContext("2d");
  drawQuadrants(g, canvas.width, canvas.height);
  setInterval(() => drawQuadrants(g, canvas.width, canvas.height), 33);
  const camera = new LocalVideoTrack(canvas.captureStream(30).getVideoTracks()[0]);
  await room.localParticipant.publishTrack(camera, { name: "js-canvas", simulcast: false, source: Track.Source.Camera });

  const audio = new AudioContext();
  const tone = audio.createOscillator();
  tone.frequency.value = 660;
  const gain = audio.createGain();
  gain.gain.value = 0.5;
  const destination = audio.createMediaStreamDestination();
  tone.connect(gain);
  gain.connect(destination);
  tone.start();
  const microphone = new LocalAudioTrack(destination.stream.getAudioTracks()[0]);
  window.microphone = microphone;
  await room.localParticipant.publishTrack(microphone, { name: "js-tone", source: Track.Source.Microphone, dtx: false });
  results.published = true;

  const local = room.localParticipant;
  await local.publishData(new TextEncoder().encode("hello-from-js"), { reliable: true, topic: "js-topic" });
  await local.sendText("text-from-js ünïcode ✓", { topic: "chat", attributes: { kind: "greeting" } });
  // a file of several chunks (sendFile), and a text written in parts (streamText)
  const fileBytes = new Uint8Array(40000);
  for (let i = 0; i < fileBytes.length; i++) fileBytes[i] = (i * 7) % 251;
  const file = new File([fileBytes], "js-file.bin", { type: "application/octet-stream" });
  await local.sendFile(file, { topic: "files" });
  const writer = await local.streamText({ topic: "chat-long", attributes: { parts: "5" } });
  for (let i = 0; i < 5; i++) await writer.write(`part-${i}:` + "ü".repeat(3000));
  await writer.close();
  await local.setAttributes({ role: "browser" });
  try {
    results.rpc = await local.performRpc({ destinationIdentity: "godot", method: "echo", payload: "ping-js" });
  } catch (error) {
    results.rpc = `error ${error.code} ${error.message}`;
  }
  try {
    results.rpcFail = await local.performRpc({ destinationIdentity: "godot", method: "fail", payload: "x" });
  } catch (error) {
    results.rpcFail = `error ${error.code} ${error.message}`;
  }
  try {
    await local.performRpc({ destinationIdentity: "godot", method: "not-registered", payload: "x" });
    results.rpcUnknown = "answered";
  } catch (error) {
    results.rpcUnknown = `error ${error.code}`;
  }
  results.sent = true;

  // a data track of our own: a numbered frame 20 times a second, stamped with its number
  const positions = await local.publishDataTrack({ name: "js-positions" });
  let frame = 0;
  setInterval(() => {
    frame += 1;
    const payload = new TextEncoder().encode(`js-frame-${frame}`);
    try {
      positions.tryPush({ payload, userTimestamp: BigInt(frame) });
    } catch (error) {
      results.dataTrackPushError = String(error);
    }
  }, 50);
}

main().catch((error) => {
  results.error = String((error && error.stack) || error);
});
