// Yjs's own reading and making of relative positions in a Lanban ticket's description,
// for tests/model/test_positions_interop.py. stdin: {"update": hex of the board's state,
// "ticket": id, "positions": [relative position JSON], "indices": [UTF-16 index]};
// stdout: {"resolved": [index or null, per position], "made": [position JSON, per index]}.

import * as Y from 'yjs'

let input = ''
process.stdin.on('data', chunk => { input += chunk })
process.stdin.on('end', () => {
  const job = JSON.parse(input)
  const doc = new Y.Doc()
  Y.applyUpdate(doc, Buffer.from(job.update, 'hex'))
  const text = doc.getMap('tickets').get(job.ticket).get('description')
  const resolved = job.positions.map(json => {
    const place = Y.createAbsolutePositionFromRelativePosition(
      Y.createRelativePositionFromJSON(json), doc)
    return place !== null && place.type === text ? place.index : null
  })
  const made = job.indices.map(index =>
    Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(text, index)))
  process.stdout.write(JSON.stringify({ resolved, made }))
})
