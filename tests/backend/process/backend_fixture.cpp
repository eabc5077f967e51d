#include "backend_fixture.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#ifndef XENSND_TOOLSTACK_EXE
#error "XENSND_TOOLSTACK_EXE must name the xensnd-toolstack executable"
#endif

namespace backendtest {

void BackendFixture::SetUp() {
  char pattern_dir[] = "/tmp/xensnd-backend-test-XXXXXX";
  ASSERT_NE(mkdtemp(pattern_dir), nullptr);
  dir_ = pattern_dir;
  sim_ = std::make_unique<simtest::SimDaemon>();
  auto env = sim_->environment();
  auto created = simtest::run_process({XENSND_TOOLSTACK_EXE, "create-domain", "--domid", "1", "--name", "guest"}, env);
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto attached = simtest::run_process(
      {XENSND_TOOLSTACK_EXE, "vsnd-attach", "--domid", "1", "--devid", "0", "--config", kCardConfig}, env);
  ASSERT_EQ(attached.exit_code, 0) << attached.err;
}

void BackendFixture::TearDown() {
  frontend_.reset();
  if (backend_) {
    if (HasFailure()) std::fprintf(stderr, "--- backend log ---\n%s\n", backend_->log().c_str());
    backend_.reset();
  }
  sim_.reset();
  std::system(("rm -rf " + dir_).c_str());
}

void BackendFixture::start_backend(const std::vector<std::string>& args, bool do_connect) {
  std::vector<std::string> all = {"--log-level", "debug"};
  all.insert(all.end(), args.begin(), args.end());
  backend_ = std::make_unique<BackendProcess>(all, sim_->environment(), dir_ + "/backend.log");
  simtest::use_domain(*sim_, 1);  // this process is the guest from here on
  frontend_ = std::make_unique<ScriptedFrontend>(1, 0, 0, 2);
  if (do_connect) connect();
}

void BackendFixture::connect() {
  // snd_be passes 5 -> 6 -> 1 and reaches InitWait once the frontend is Initialising.
  ASSERT_TRUE(frontend_->wait_backend_state(2)) << backend_->log();
  frontend_->publish();
  ASSERT_TRUE(frontend_->wait_backend_state(4)) << backend_->log();
}

int32_t BackendFixture::open_stream(size_t stream, uint32_t buffer_bytes) {
  grant_ref_t directory = frontend_->share_buffer(stream, buffer_bytes);
  auto request = ScriptedFrontend::open_request(kRate, XENSND_PCM_FORMAT_S16_LE, 2, buffer_bytes, kPeriodBytes,
                                                directory);
  return frontend_->call(stream, request).status;
}

int32_t BackendFixture::write_period(size_t stream, uint64_t index, uint32_t buffer_bytes) {
  uint32_t offset = static_cast<uint32_t>((index % (buffer_bytes / kPeriodBytes)) * kPeriodBytes);
  std::byte* data = frontend_->buffer(stream) + offset;
  for (uint32_t i = 0; i < kPeriodBytes; ++i) data[i] = pattern(index * kPeriodBytes + i);
  return frontend_->call(stream, ScriptedFrontend::rw_request(XENSND_OP_WRITE, offset, kPeriodBytes)).status;
}

int32_t BackendFixture::trigger(size_t stream, uint8_t type) {
  return frontend_->call(stream, ScriptedFrontend::trigger_request(type)).status;
}

std::vector<std::byte> BackendFixture::read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
  std::vector<std::byte> out(bytes.size());
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

}  // namespace backendtest
