#include "kv/kv_event.h"

namespace helix {

std::string_view kv_event_name(KvEventType type) {
  switch (type) {
    case KvEventType::Allocate: return "allocate";
    case KvEventType::Free: return "free";
    case KvEventType::PrefixHit: return "prefix_hit";
    case KvEventType::Cache: return "cache";
    case KvEventType::Evict: return "evict";
    case KvEventType::CopyOnWrite: return "cow";
    case KvEventType::Fork: return "fork";
    case KvEventType::Preempt: return "preempt";
  }
  return "unknown";
}

}  // namespace helix
