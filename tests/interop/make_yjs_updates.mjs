// Writes tests/vectors/yjs_updates/updates.json: Yjs V1 updates made by the stock `yjs`
// package, covering every struct and content kind, for sync/update_check.py's tests
// (tests/sync/test_update_check.py): every one must pass the check, and pycrdt must apply it.
//
//   cd tests/interop && npm ci --ignore-scripts && node make_yjs_updates.mjs
//
// Deterministic: fixed client ids, no clocks or random values in the content.

import * as Y from 'yjs'
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const vectors = []
const add = (name, update) => vectors.push({ name, update: Buffer.from(update).toString('hex') })

const newDoc = (clientID, opts = {}) => {
  const doc = new Y.Doc(opts)
  doc.clientID = clientID
  return doc
}

// Every incremental update a doc emits, and its whole state at the end.
const record = (name, doc, edit) => {
  const updates = []
  doc.on('update', update => updates.push(update))
  edit(doc)
  updates.forEach((u, i) => add(`${name}/update-${i}`, u))
  add(`${name}/state`, Y.encodeStateAsUpdate(doc))
  return updates
}

// A board shaped as Lanban's (DESIGN.md section 3), edited as a Yjs client would.
record('board', newDoc(101), doc => {
  const board = doc.getMap('board')
  const columns = doc.getMap('columns')
  const tickets = doc.getMap('tickets')
  doc.transact(() => {
    board.set('id', 'b0ard1d')
    board.set('title', 'Zoë’s board 😀')
    board.set('schema', 1)
    board.set('created_at', 1700000000000)
    for (const [id, title, rank] of [['c1', 'To do', 'a'], ['c2', 'Doing', 'b']]) {
      columns.set(id, new Y.Map([['title', title], ['rank', rank], ['wip_limit', 0], ['deleted', false]]))
    }
  })
  for (let i = 0; i < 20; i++) {
    doc.transact(() => {
      const t = new Y.Map()
      tickets.set(`t${i}`, t)
      t.set('number', i + 1)
      t.set('title', `Ticket ${i}`)
      const text = new Y.Text()
      t.set('description', text)
      text.insert(0, `Line ${i} — ünïcode 𝄞\n`)
      t.set('column', i % 2 ? 'c1' : 'c2')
      t.set('rank', `a${i}`)
      t.set('labels', new Y.Map())
      t.set('comments', new Y.Array())
      t.set('deleted', false)
    })
  }
  for (let i = 0; i < 20; i += 3) {
    const t = tickets.get(`t${i}`)
    t.set('column', 'c1') // a move: overwrites a key (GC of the old value)
    t.get('description').delete(0, 3)
    t.get('description').insert(2, 'typed')
    const comment = new Y.Map([['id', `k${i}`], ['author', 'ann'], ['text', 'hello'], ['at', 1.5]])
    t.get('comments').push([comment])
    t.get('labels').set('l1', true)
  }
  tickets.delete('t1')
})

// Arrays of every lib0 Any value, binary content, nested types.
record('values', newDoc(202), doc => {
  const arr = doc.getArray('values')
  arr.insert(0, [null, { u: undefined }, true, false, 0, -1, 2 ** 31, -(2 ** 40), 1.25, 1e300, 'text'])
  arr.push([{ big: 123n, a: [1, { b: 'c' }], 'ü': null }, [[[]]], new Uint8Array([1, 2, 3])])
  const map = doc.getMap('map')
  map.set('binary', new Uint8Array([0, 255]))
  map.set('nested', new Y.Map([['inner', new Y.Array()]]))
  map.get('nested').get('inner').push([new Y.Text('deep')])
  arr.delete(2, 4)
})

// Rich text: formatting attributes (Format), embeds (Embed), deletes.
record('text', newDoc(303), doc => {
  const text = doc.getText('text')
  text.insert(0, 'Hello world')
  text.format(0, 5, { bold: true, link: { href: 'https://example.com' } })
  text.insertEmbed(5, { image: 'x.png', size: [1, 2] })
  text.insert(text.length, ' 😀😀', { italic: true })
  text.delete(1, 2)
  text.applyDelta([{ retain: 3 }, { insert: 'Δ' }])
})

// XML types: fragment, element with attributes, text, hook.
record('xml', newDoc(404), doc => {
  const frag = doc.getXmlFragment('xml')
  const el = new Y.XmlElement('p')
  frag.insert(0, [el])
  el.setAttribute('class', 'x')
  const text = new Y.XmlText()
  el.insert(0, [text])
  text.insert(0, 'para', { b: true })
  frag.insert(1, [new Y.XmlHook('hook')])
  frag.push([new Y.XmlElement('div')])
  frag.delete(2, 1)
})

// A sub-document (Doc content).
record('subdoc', newDoc(505), doc => {
  doc.getMap('docs').set('sub', new Y.Doc({ guid: 'sub-guid', meta: { kind: 'page' } }))
})

// Legacy JSON content, as old Yjs versions wrote it.
record('json', newDoc(606), doc => {
  const arr = doc.getArray('legacy')
  doc.transact(tr => {
    const id = Y.createID(doc.clientID, Y.getState(doc.store, doc.clientID))
    const content = new Y.ContentJSON([{ a: 1 }, 'x', undefined, [1, [2]]])
    new Y.Item(id, null, null, null, null, arr, null, content).integrate(tr, 0)
  })
  arr.push(['after'])
})

// Two clients editing the same map and text concurrently, then merged.
const a = newDoc(707)
const b = newDoc(708)
a.getText('t').insert(0, 'from a')
b.getText('t').insert(0, 'from b')
Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
a.getText('t').delete(0, 8)
b.getMap('m').set('k', 'v')
Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
add('two-clients/state', Y.encodeStateAsUpdate(a))
add('two-clients/diff', Y.encodeStateAsUpdate(b, Y.encodeStateVector(newDoc(1))))

// Merged updates with a gap (Skip structs), and without GC (deleted content kept).
const gap = newDoc(809)
const parts = record('gap', gap, doc => {
  for (let i = 0; i < 4; i++) doc.getArray('a').push([i])
})
add('gap/merged-with-skip', Y.mergeUpdates([parts[0], parts[2], parts[3]]))
add('gap/merged', Y.mergeUpdates(parts))
record('no-gc', newDoc(910, { gc: false }), doc => {
  doc.getText('t').insert(0, 'abcdef')
  doc.getText('t').delete(1, 3)
  doc.getMap('m').set('k', 1)
  doc.getMap('m').set('k', 2)
})
add('empty', Y.encodeStateAsUpdate(new Y.Doc()))

const out = fileURLToPath(new URL('../vectors/yjs_updates/', import.meta.url))
mkdirSync(out, { recursive: true })
const header = 'Made by tests/interop/make_yjs_updates.mjs with yjs ' +
  JSON.parse((await import('node:fs')).readFileSync(new URL('node_modules/yjs/package.json', import.meta.url))).version
writeFileSync(out + 'updates.json', JSON.stringify({ about: header, vectors }, null, 1) + '\n')
console.log(`${vectors.length} updates written to ${out}updates.json`)
