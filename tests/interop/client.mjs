// A stock Yjs client (yjs + y-websocket's WebsocketProvider) driven over stdin/stdout.
//
//   node client.mjs --url ws://127.0.0.1:1234 --room ROOM [--map NAME]... [--token T]
//                   [--awareness JSON] [--client-id N]
//
// Commands, one JSON object per stdin line (an optional "id" is echoed in the "done" event):
//   {"op": "set", "key": K, "value": JSON, "map"?: NAME}   set a key in a root Y.Map
//   {"op": "delete", "key": K, "map"?: NAME}
//   {"op": "awareness", "state": JSON | null}              the local awareness state
//   {"op": "apply", "update": BASE64}                      apply a Yjs update (V1)
//   {"op": "state"}                                        print a "state" event
//   {"op": "disconnect"} | {"op": "connect"} | {"op": "quit"}
// Events, one JSON object per stdout line:
//   start {clientId}, status {status}, synced {synced, maps}, doc {origin, maps},
//   awareness {states}, connection-close {code, reason}, connection-error {message},
//   state {update, maps}, done {op, id}, error {message}
// "maps" holds every root map named with --map (the first one is the default), as JSON.

import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import { parseArgs } from 'node:util'
import { createInterface } from 'node:readline'

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    room: { type: 'string' },
    map: { type: 'string', multiple: true, default: ['map'] },
    token: { type: 'string' },
    awareness: { type: 'string' },
    'client-id': { type: 'string' }
  }
})
if (!args.url || args.room === undefined) {
  console.error('usage: client.mjs --url URL --room ROOM [--map NAME]... [--token T]')
  process.exit(2)
}

const emit = (event, fields = {}) => {
  process.stdout.write(JSON.stringify({ event, ...fields }) + '\n')
}

const doc = new Y.Doc()
if (args['client-id'] !== undefined) doc.clientID = Number(args['client-id'])
const maps = () => Object.fromEntries(args.map.map(name => [name, doc.getMap(name).toJSON()]))

const provider = new WebsocketProvider(args.url, args.room, doc, {
  WebSocketPolyfill: WebSocket,
  params: args.token !== undefined ? { token: args.token } : {},
  disableBc: true,
  connect: false
})
if (args.awareness !== undefined) provider.awareness.setLocalState(JSON.parse(args.awareness))

provider.on('status', ({ status }) => emit('status', { status }))
provider.on('sync', synced => emit('synced', { synced, maps: maps() }))
provider.on('connection-close', event =>
  emit('connection-close', { code: event?.code ?? null, reason: event?.reason ?? '' }))
provider.on('connection-error', event =>
  emit('connection-error', { message: String(event?.message ?? event?.error ?? 'error') }))
doc.on('update', (_update, origin) =>
  emit('doc', { origin: origin === provider ? 'remote' : 'local', maps: maps() }))
provider.awareness.on('change', () =>
  emit('awareness', { states: Object.fromEntries(provider.awareness.getStates()) }))

const commands = {
  set: ({ key, value, map }) => doc.getMap(map ?? args.map[0]).set(key, value),
  delete: ({ key, map }) => doc.getMap(map ?? args.map[0]).delete(key),
  awareness: ({ state }) => provider.awareness.setLocalState(state),
  apply: ({ update }) => Y.applyUpdate(doc, Buffer.from(update, 'base64'), 'harness'),
  state: () => emit('state', {
    update: Buffer.from(Y.encodeStateAsUpdate(doc)).toString('base64'),
    maps: maps()
  }),
  disconnect: () => provider.disconnect(),
  connect: () => provider.connect(),
  quit: () => quit(0)
}

const quit = code => {
  provider.destroy()
  doc.destroy()
  // let stdout drain before leaving
  process.stdout.write('', () => process.exit(code))
}

const input = createInterface({ input: process.stdin })
input.on('line', line => {
  if (!line.trim()) return
  let command
  try {
    command = JSON.parse(line)
    const run = commands[command.op]
    if (run === undefined) throw new Error(`unknown op ${JSON.stringify(command.op)}`)
    run(command)
    emit('done', { op: command.op, id: command.id ?? null })
  } catch (err) {
    emit('error', { message: String(err?.message ?? err), id: command?.id ?? null })
  }
})
input.on('close', () => quit(0))

emit('start', { clientId: doc.clientID })
provider.connect()
