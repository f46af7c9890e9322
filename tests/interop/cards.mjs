// A stock Yjs client reading and editing a ticket's richer fields (issue 11: due,
// checklist, assignees) in a Lanban board document, as sync/PROTOCOL.md section 8
// describes them. For tests/interop/test_cards_interop.py.
//
//   echo REQUEST | node cards.mjs
//
// REQUEST, one JSON object: {"update": BASE64 (the board, a Yjs V1 update),
//   "ticket": ID, "due"?: STRING, "add"?: {"id", "text", "rank"}, "tick"?: ITEM ID}
// Prints one JSON object: {"update": BASE64 (only what this client changed),
//   "ticket": {"due", "assignee", "assignees", "checklist": [{id, text, done}] in
//   (rank, id) order}}

import * as Y from 'yjs'
import { readFileSync } from 'node:fs'

const request = JSON.parse(readFileSync(0, 'utf8'))
const doc = new Y.Doc()
doc.clientID = 4242
Y.applyUpdate(doc, Buffer.from(request.update, 'base64'))
const before = Y.encodeStateVector(doc)
const ticket = doc.getMap('tickets').get(request.ticket)
if (!(ticket instanceof Y.Map)) throw new Error(`no ticket ${request.ticket}`)

doc.transact(() => {
  if (request.due !== undefined) ticket.set('due', request.due)
  if (request.add !== undefined) {
    let checklist = ticket.get('checklist')
    if (!(checklist instanceof Y.Array)) {
      checklist = new Y.Array()
      ticket.set('checklist', checklist)
    }
    const item = new Y.Map()
    item.set('id', request.add.id)
    item.set('text', request.add.text)
    item.set('done', false)
    item.set('rank', request.add.rank)
    checklist.push([item])
  }
  if (request.tick !== undefined) {
    for (const item of ticket.get('checklist').toArray()) {
      if (item.get('id') === request.tick) item.set('done', true)
    }
  }
})

const byRank = (a, b) =>
  a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0
const checklist = ticket.get('checklist')
const items = checklist instanceof Y.Array ? checklist.toArray().map(m => m.toJSON()) : []
const assignees = ticket.get('assignees')
process.stdout.write(JSON.stringify({
  update: Buffer.from(Y.encodeStateAsUpdate(doc, before)).toString('base64'),
  ticket: {
    due: ticket.get('due') ?? null,
    assignee: ticket.get('assignee') ?? null,
    assignees: assignees instanceof Y.Array ? assignees.toArray() : null,
    checklist: items.sort(byRank).map(({ id, text, done }) => ({ id, text, done }))
  }
}) + '\n')
