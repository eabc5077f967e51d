#include "backend/fault_plan.h"

#include <charconv>

#include "backend/endpoint_spec.h"
#include "protocol/sndif_abi.h"

namespace xensnd::backend {
namespace {

constexpr std::pair<std::string_view, FaultKind> kKinds[] = {
    {"delay-response", FaultKind::kDelayResponse},
    {"drop-response", FaultKind::kDropResponse},
    {"wrong-id", FaultKind::kWrongId},
    {"wrong-operation", FaultKind::kWrongOperation},
    {"position-backwards", FaultKind::kPositionBackwards},
    {"position-beyond", FaultKind::kPositionBeyond},
    {"event-flood", FaultKind::kEventFlood},
    {"stop-events", FaultKind::kStopEvents},
    {"exit", FaultKind::kExit},
    {"set-closing", FaultKind::kSetClosing},
};

constexpr std::pair<std::string_view, uint8_t> kOperations[] = {
    {"open", XENSND_OP_OPEN},           {"close", XENSND_OP_CLOSE},
    {"read", XENSND_OP_READ},           {"write", XENSND_OP_WRITE},
    {"set-volume", XENSND_OP_SET_VOLUME}, {"get-volume", XENSND_OP_GET_VOLUME},
    {"mute", XENSND_OP_MUTE},           {"unmute", XENSND_OP_UNMUTE},
    {"trigger", XENSND_OP_TRIGGER},     {"hw-param-query", XENSND_OP_HW_PARAM_QUERY},
};

bool parse_u32(std::string_view text, uint32_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string_view fault_name(FaultKind kind) {
  for (const auto& [name, value] : kKinds)
    if (value == kind) return name;
  return "?";
}

bool FaultSpec::on_requests() const {
  switch (kind) {
    case FaultKind::kDelayResponse:
    case FaultKind::kDropResponse:
    case FaultKind::kWrongId:
    case FaultKind::kWrongOperation:
      return true;
    case FaultKind::kExit:
    case FaultKind::kSetClosing:
      return operation.has_value();
    default:
      return false;
  }
}

std::optional<FaultSpec> parse_fault_spec(std::string_view text, std::string& error) {
  FaultSpec spec;
  std::string_view name = text.substr(0, text.find(':'));
  bool known = false;
  for (const auto& [kind_name, kind] : kKinds) {
    if (name == kind_name) {
      spec.kind = kind;
      known = true;
    }
  }
  if (!known) {
    error = "unknown fault '" + std::string(name) + "' (expected one of:";
    for (const auto& [kind_name, kind] : kKinds) error += " " + std::string(kind_name);
    error += ")";
    return std::nullopt;
  }
  std::string_view rest = name.size() < text.size() ? text.substr(name.size() + 1) : std::string_view{};
  while (!rest.empty()) {
    std::string_view item = rest.substr(0, rest.find(','));
    rest = item.size() < rest.size() ? rest.substr(item.size() + 1) : std::string_view{};
    size_t eq = item.find('=');
    std::string_view key = item.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    bool ok = false;
    if (key == "nth") {
      ok = parse_u32(value, spec.nth) && spec.nth > 0;
    } else if (key == "ms") {
      ok = parse_u32(value, spec.ms);
    } else if (key == "op") {
      for (const auto& [op_name, op] : kOperations)
        if (value == op_name) {
          spec.operation = op;
          ok = true;
        }
    } else if (key == "stream") {
      size_t pcm = 0, stream = 0;
      ok = parse_stream_key(value, pcm, stream);
      if (ok) spec.stream = std::make_pair(pcm, stream);
    }
    if (!ok) {
      error = "fault '" + std::string(text) + "': bad option '" + std::string(item) +
              "' (nth=N>0, ms=N, op=open|close|read|write|trigger|hw-param-query|set-volume|get-volume|mute|unmute, "
              "stream=P/S)";
      return std::nullopt;
    }
  }
  if (spec.kind == FaultKind::kDelayResponse && spec.ms == 0) {
    error = "fault delay-response needs ms=N (N > 0)";
    return std::nullopt;
  }
  return spec;
}

StreamFaults::StreamFaults(const std::vector<FaultSpec>& all, size_t pcm, size_t stream) {
  for (const FaultSpec& spec : all)
    if (!spec.stream || *spec.stream == std::make_pair(pcm, stream)) faults_.push_back({spec, 0});
}

RequestFaults StreamFaults::on_request(uint8_t operation) {
  RequestFaults result;
  for (Armed& armed : faults_) {
    if (!armed.spec.on_requests()) continue;
    if (armed.spec.operation && *armed.spec.operation != operation) continue;
    ++armed.seen;
    bool at_nth = armed.seen == armed.spec.nth;
    switch (armed.spec.kind) {
      case FaultKind::kDelayResponse:
        if (armed.seen >= armed.spec.nth) result.delay_ms += armed.spec.ms;
        break;
      case FaultKind::kDropResponse: result.drop |= at_nth; break;
      case FaultKind::kWrongId: result.wrong_id |= at_nth; break;
      case FaultKind::kWrongOperation: result.wrong_operation |= at_nth; break;
      case FaultKind::kExit: result.exit |= at_nth; break;
      case FaultKind::kSetClosing: result.set_closing |= at_nth; break;
      default: break;
    }
  }
  return result;
}

EventFaults StreamFaults::on_position_event() {
  EventFaults result;
  for (Armed& armed : faults_) {
    if (armed.spec.on_requests()) continue;
    ++armed.seen;
    bool at_nth = armed.seen == armed.spec.nth;
    switch (armed.spec.kind) {
      case FaultKind::kPositionBackwards: result.backwards |= at_nth; break;
      case FaultKind::kPositionBeyond: result.beyond |= at_nth; break;
      case FaultKind::kEventFlood: result.flood |= at_nth; break;
      case FaultKind::kStopEvents: result.suppress |= armed.seen >= armed.spec.nth; break;
      case FaultKind::kExit: result.exit |= at_nth; break;
      case FaultKind::kSetClosing: result.set_closing |= at_nth; break;
      default: break;
    }
  }
  return result;
}

}  // namespace xensnd::backend
