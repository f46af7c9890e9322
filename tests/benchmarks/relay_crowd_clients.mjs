// Stock y-websocket clients (yjs + WebsocketProvider over ws) for bench_relay_crowd.py.
//
//   node --input-type=module -e "$(cat relay_crowd_clients.mjs)" URLS_JSON COUNT [--writer]
//   (run in tests/interop, where the pinned packages are installed)
//
// COUNT providers join room "crowd" of each relay in URLS_JSON ({label: url}), each with
// a Y.Doc of its own and an awareness state (renewed by y-protocols every 15 s). With
// --writer, one more provider per relay writes on "write LABEL N" lines from stdin.
// Lines out: "ready {}", "wrote {t}", "got {label, round, t}" when all COUNT have
// applied round N's update; t is CLOCK_MONOTONIC in seconds (process.hrtime), the
// clock Python's time.monotonic() reads.

import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import { createInterface } from 'node:readline'

const [urlsJson, countText, writerFlag] = process.argv.slice(1).filter(a => a !== '--')
const urls = JSON.parse(urlsJson)
const count = Number(countText)
const writer = writerFlag === '--writer'
const now = () => Number(process.hrtime.bigint()) / 1e9
const say = (tag, data) => process.stdout.write(`${tag} ${JSON.stringify(data)}\n`)
const perRelay = count + (writer ? 1 : 0)
const writers = {}
let synced = 0

for (const [label, url] of Object.entries(urls)) {
  const seen = []
  const last = []
  for (let i = 0; i < perRelay; i++) {
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(url, 'crowd', doc, {
      WebSocketPolyfill: WebSocket,
      disableBc: true
    })
    provider.awareness.setLocalState({ user: { name: `${label}-${i}` } })
    provider.once('sync', () => {
      if (++synced === perRelay * Object.keys(urls).length) say('ready', {})
    })
    if (writer && i === count) {
      writers[label] = doc
      continue
    }
    let received = 0
    doc.on('update', (_update, origin) => {
      if (origin !== provider) return
      const t = now()
      const round = received++
      if (seen.length === round) {
        seen.push(0)
        last.push(0)
      }
      seen[round]++
      last[round] = Math.max(last[round], t)
      if (seen[round] === count) say('got', { label, round, t: last[round] })
    })
  }
}

createInterface({ input: process.stdin })
  .on('line', line => {
    const [op, label, number] = line.trim().split(' ')
    if (op !== 'write' || !writer) return
    const t = now()
    writers[label].getMap('map').set('k', Number(number))
    say('wrote', { t })
  })
  .on('close', () => process.exit(0))
