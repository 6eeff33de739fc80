// A block map: what every block of the pool holds. The grid draws any block map. Today the page builds
// one from the /compare/memory figures (sequences take blocks in allocation order from a fresh pool);
// the serving engine's live map (real block ids, owners, shared prefixes) will have the same shape.
//
// BlockMap = { source: 'computed' | 'engine', blockSize, numBlocks, blocks: Block[] }
// Block    = { id, state: 'used' | 'free', sequence, firstToken, lastToken, tokens, shared }
//            (sequence/firstToken/lastToken are null for free blocks; tokens = slots holding a token)

export function freeBlock(id) {
  return { id, state: 'free', sequence: null, firstToken: null, lastToken: null, tokens: 0, shared: false };
}

// The map a fresh pool gives `batch_size` sequences of `sequence_length` tokens each: sequence s takes
// blocks s*b .. s*b+b-1 (b = ceil(len / block_size)); block j of a sequence holds tokens j*bs ..
// min((j+1)*bs, len)-1; every other block is free.
export function computedBlockMap({ num_blocks, block_size, blocks_used, sequence_length, batch_size }) {
  const perSequence = Math.ceil(sequence_length / block_size);
  const blocks = new Array(num_blocks);
  for (let id = 0; id < num_blocks; ++id) {
    if (id >= blocks_used || perSequence === 0) {
      blocks[id] = freeBlock(id);
      continue;
    }
    const sequence = Math.floor(id / perSequence);
    const j = id % perSequence;
    const firstToken = j * block_size;
    const lastToken = Math.min((j + 1) * block_size, sequence_length) - 1;
    blocks[id] = {
      id,
      state: 'used',
      sequence,
      firstToken,
      lastToken,
      tokens: lastToken - firstToken + 1,
      shared: false,
    };
  }
  return { source: 'computed', blockSize: block_size, numBlocks: num_blocks, blocks, sequences: batch_size };
}

// Tooltip text: "Block 3: tokens 48–63", with the sequence when several share the pool, empty slots of a
// partly filled last block, and a shared-prefix mark when the engine reports one.
export function blockTitle(block, { blockSize, sequences = 1 } = {}) {
  if (block.state !== 'used') return `Block ${block.id}: free`;
  let text = `Block ${block.id}: tokens ${block.firstToken}–${block.lastToken}`;
  if (sequences > 1 && block.sequence !== null) text += ` of sequence ${block.sequence}`;
  const empty = blockSize ? blockSize - block.tokens : 0;
  if (empty > 0) text += ` (${empty} empty ${empty === 1 ? 'slot' : 'slots'})`;
  if (block.shared) text += ', shared prefix';
  return text;
}

// For pools too large to draw block by block: cell i covers blocks i*k .. i*k+k-1; its state is 'used'
// when all its blocks are used, 'partial' when some are, else 'free'.
export function aggregateCells(blockMap, perCell) {
  const cells = [];
  const { blocks } = blockMap;
  for (let start = 0; start < blocks.length; start += perCell) {
    const end = Math.min(start + perCell, blocks.length);
    let used = 0;
    for (let id = start; id < end; ++id) if (blocks[id].state === 'used') ++used;
    const state = used === 0 ? 'free' : used === end - start ? 'used' : 'partial';
    cells.push({ id: cells.length, firstBlock: start, lastBlock: end - 1, used, state });
  }
  return cells;
}

export function cellTitle(cell) {
  const range = `Blocks ${cell.firstBlock}–${cell.lastBlock}`;
  if (cell.state === 'free') return `${range}: free`;
  return `${range}: ${cell.used} of ${cell.lastBlock - cell.firstBlock + 1} used`;
}

// Counts by state (the grid's summary line, and tests).
export function countStates(blockMap) {
  let used = 0;
  let shared = 0;
  for (const b of blockMap.blocks) {
    if (b.state === 'used') {
      ++used;
      if (b.shared) ++shared;
    }
  }
  return { used, free: blockMap.blocks.length - used, shared };
}
