// The daemon's control socket, <run_dir>/control: a line protocol for tests and the
// toolstack. One request per line, one reply line each:
//   ping                 -> ok
//   domains              -> ok 0 5 ...            (domains with a XenStore socket)
//   counts <domid>       -> ok domid=N xs_connections=N xs_watches=N xs_transactions=N
//                           xs_requests=N (all the domain sent since it was introduced)
//                           hypervisor=0|1 grants=N mappings=N ports=N hypervisor_clients=N
//   invalidate <domid>   -> ok                    (simulated save/restore of the domain)
// Anything else, or a bad domain, gets "error <reason>".
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "sim/common/event_loop.h"
#include "sim/xenstored/xenstore_server.h"

namespace simxen {

class HypervisorService;

class ControlServer {
 public:
  // `hypervisor` may be null when the build has no hypervisor half yet.
  ControlServer(EventLoop& loop, std::filesystem::path socket, XenstoreServer& xenstore,
                HypervisorService* hypervisor);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

 private:
  void accept_clients();
  void serve(int fd);
  void close_client(int fd);
  std::string answer(const std::string& line);

  EventLoop& loop_;
  std::filesystem::path socket_;
  XenstoreServer& xenstore_;
  HypervisorService* hypervisor_;
  int listen_fd_ = -1;
  std::map<int, std::string> clients_;  // fd -> partial input line
};

}  // namespace simxen
