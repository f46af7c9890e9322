// Writes tests/vectors/y_protocols.json: messages made by the stock y-protocols encoders,
// and what a stock y-protocols peer answers to them. Lanban's sync core must decode every
// one and answer the same (tests/sync/test_vectors.py).
//
//   cd tests/interop && npm ci --ignore-scripts && node make_vectors.mjs
//
// Deterministic: fixed client ids, no clocks in the content. Awareness clocks are
// y-protocols' own (a fresh Awareness publishes its first state at clock 1).

import * as Y from 'yjs'
import * as syncProtocol from 'y-protocols/sync'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as authProtocol from 'y-protocols/auth'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

// y-websocket's message types
const messageSync = 0
const messageAwareness = 1
const messageAuth = 2
const messageQueryAwareness = 3

const hex = bytes => Buffer.from(bytes).toString('hex')

const frame = (type, write) => {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, type)
  write(enc)
  return encoding.toUint8Array(enc)
}

// What a stock peer (y-websocket's client or server) sends back for a sync frame.
const answerSync = (doc, message) => {
  const dec = decoding.createDecoder(message)
  if (decoding.readVarUint(dec) !== messageSync) throw new Error('not a sync message')
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, messageSync)
  syncProtocol.readSyncMessage(dec, enc, doc, 'remote')
  return encoding.length(enc) > 1 ? encoding.toUint8Array(enc) : null
}

const mapJSON = doc => doc.getMap('map').toJSON()

// A: the peer that has content; B: a peer with content of its own.
const a = new Y.Doc()
a.clientID = 1001
a.getMap('map').set('title', 'Zoë’s board')
a.getMap('map').set('count', 3)
a.getMap('map').set('nested', new Y.Map([['k', 'v']]))
const b = new Y.Doc()
b.clientID = 2002
b.getMap('map').set('from_b', true)

const baseA = Y.encodeStateAsUpdate(a)
const baseB = Y.encodeStateAsUpdate(b)

const step1A = frame(messageSync, enc => syncProtocol.writeSyncStep1(enc, a))
const step1B = frame(messageSync, enc => syncProtocol.writeSyncStep1(enc, b))
const step1Empty = frame(messageSync, enc => syncProtocol.writeSyncStep1(enc, new Y.Doc()))
// What B answers to A's step 1 (and A to B's): a step 2.
const step2BtoA = answerSync(b, step1A)
const step2AtoB = answerSync(a, step1B)

// A later edit on A, as the update message y-websocket sends.
let liveUpdate = null
a.once('update', update => { liveUpdate = update })
a.getMap('map').set('count', 4)
const updateA = frame(messageSync, enc => syncProtocol.writeUpdate(enc, liveUpdate))
const afterA = Y.encodeStateAsUpdate(a)

// B after receiving A's step 2 (made above, before A's edit) and A's update.
const b2 = new Y.Doc()
b2.clientID = 2003 // B's own id would make yjs pick a new one (it reads as a clash)
Y.applyUpdate(b2, baseB)
for (const f of [step2AtoB, updateA]) answerSync(b2, f)
const mergedB = mapJSON(b2)

// Awareness: A's state, a unicode name (lengths are UTF-8 bytes), then A leaving.
const awA = new awarenessProtocol.Awareness(a)
const stateA = {
  user: { id: 'u-a', name: 'Zoë 🦊', color: '#ff8800' },
  editing: null,
  dragging: null,
  typing: null
}
awA.setLocalState(stateA)
const awarenessA = frame(messageAwareness, enc =>
  encoding.writeVarUint8Array(enc, awarenessProtocol.encodeAwarenessUpdate(awA, [a.clientID])))
const awB = new awarenessProtocol.Awareness(b)
awB.setLocalState({ user: { id: 'u-b', name: 'Bob', color: '#0088ff' }, editing: 'T1' })
const awarenessB = frame(messageAwareness, enc =>
  encoding.writeVarUint8Array(enc, awarenessProtocol.encodeAwarenessUpdate(awB, [b.clientID])))
// B, a stock peer, applies A's state; a query then gets both (B's own first).
awarenessProtocol.applyAwarenessUpdate(
  awB, decoding.readVarUint8Array(decoding.createDecoder(awarenessA.slice(1))), 'remote')
const queryAwareness = frame(messageQueryAwareness, () => {})
const queryAnswerB = frame(messageAwareness, enc =>
  encoding.writeVarUint8Array(enc,
    awarenessProtocol.encodeAwarenessUpdate(awB, Array.from(awB.getStates().keys()))))
// A leaves: y-protocols sends its state as null with the clock moved on.
awA.setLocalState(null)
const awarenessALeft = frame(messageAwareness, enc =>
  encoding.writeVarUint8Array(enc, awarenessProtocol.encodeAwarenessUpdate(awA, [a.clientID])))
awarenessProtocol.applyAwarenessUpdate(
  awB, decoding.readVarUint8Array(decoding.createDecoder(awarenessALeft.slice(1))), 'remote')
const statesAfterLeave = Object.fromEntries(awB.getStates())

const authDenied = frame(messageAuth, enc => authProtocol.writePermissionDenied(enc, 'wrong token'))

const vectors = {
  generator: 'tests/interop/make_vectors.mjs',
  packages: {
    yjs: (await import('yjs/package.json', { with: { type: 'json' } })).default.version,
    'y-protocols': (await import('y-protocols/package.json', { with: { type: 'json' } })).default.version
  },
  docs: {
    a: { client_id: a.clientID, update: hex(baseA) },
    b: { client_id: b.clientID, update: hex(baseB), map: { from_b: true } },
    a_after_edit: { update: hex(afterA), map: mapJSON(a) },
    b_after_sync: { map: mergedB }
  },
  frames: {
    step1_a: hex(step1A),
    step1_b: hex(step1B),
    step1_empty: hex(step1Empty),
    step2_b_to_a: hex(step2BtoA),
    step2_a_to_b: hex(step2AtoB),
    update_a: hex(updateA),
    awareness_a: hex(awarenessA),
    awareness_b: hex(awarenessB),
    awareness_a_left: hex(awarenessALeft),
    query_awareness: hex(queryAwareness),
    query_answer_b: hex(queryAnswerB),
    auth_denied: hex(authDenied)
  },
  awareness: {
    a: { client_id: a.clientID, clock: 1, state: stateA },
    a_left_clock: awA.meta.get(a.clientID).clock,
    b_states_after_leave: statesAfterLeave
  }
}

awA.destroy() // their renewal timers would keep the process alive
awB.destroy()

const out = fileURLToPath(new URL('../vectors/y_protocols.json', import.meta.url))
writeFileSync(out, JSON.stringify(vectors, null, 2) + '\n')
console.log(`wrote ${out}`)
