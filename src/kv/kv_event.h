// Block events for the live UI: what happened to which blocks, on behalf of which sequence.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "kv/kv_ids.h"

namespace helix {

enum class KvEventType : uint8_t {
  Allocate,   // new blocks appended to a sequence's table
  Free,       // blocks released by a sequence (ref--; those reaching 0 join the free queue)
  PrefixHit,  // cached blocks adopted by a sequence instead of being computed
  Cache,      // full blocks of a sequence registered as cached prefixes
  Evict,      // a free cached block reused: its prefix key dropped (no sequence)
  CopyOnWrite,  // blocks = {shared source, private copy}
  Fork,       // blocks = every block the child now shares with its parent
  Preempt,    // a running sequence lost its blocks to cache pressure (a Free of the same blocks follows);
              // it is recomputed when readmitted
};

std::string_view kv_event_name(KvEventType type);

struct KvEvent {
  KvEventType type;
  SeqId seq;  // invalid for pool-level events (Evict)
  std::vector<BlockId> blocks;
};

using KvEventSink = std::function<void(const KvEvent&)>;

}  // namespace helix
