// Stream data from a source (Connection::write_source, quic/stream_source.h) in the simulator:
// the bytes are made as packets are built, made again for every retransmission (RFC 9000
// §13.3), and a source that fails resets the stream (§3.1) instead of sending bytes it did not
// supply. A failure prints its seed (doctest INFO).
#include <doctest/doctest.h>

#include "sim/file_transfer.h"

using namespace quic;
using namespace quic::sim;
using namespace std::chrono_literals;

namespace {

TransferScenario sourced(uint64_t seed, std::vector<uint64_t> sizes) {
    TransferScenario s = sim_scenario(seed, std::move(sizes));
    s.server_options.from_source = true;
    return s;
}

}  // namespace

TEST_CASE("stream source: files of every size arrive intact, each byte read once") {
    // Empty, one byte, around a send-buffer chunk, several packets, several chunks.
    TransferScenario s = sourced(301, {0, 1, 1200, 16 * 1024, 16 * 1024 + 1, 300'000, 1 << 20});
    // A queue slow start cannot overflow: no packet is lost, so no byte is read twice.
    s.server_to_client.queue_packets = 10'000;
    TransferOutcome out = check_file_transfer(s);
    const uint64_t total = 1 + 1200 + 16 * 1024 + 16 * 1024 + 1 + 300'000 + (1 << 20);
    CHECK(out.bytes_received == total);
    REQUIRE(out.server_to_client.dropped_queue == 0);
    CHECK(out.server_source_bytes_read == total);
}

TEST_CASE("stream source: under 3% loss with bursts, lost bytes are read again and resent") {
    TransferScenario s = sourced(302, {2 << 20, 100'000});
    s.client_to_server.loss = s.server_to_client.loss = 0.03;
    s.client_to_server.max_burst_loss = s.server_to_client.max_burst_loss = 3;
    TransferOutcome out = check_file_transfer(s);
    const uint64_t total = (2 << 20) + 100'000;
    CHECK(out.server_to_client.dropped_loss > 0);
    CHECK(out.bytes_received == total);
    // Each retransmission read its bytes from the source again.
    CHECK(out.server_source_bytes_read > total);
}

TEST_CASE("stream source: a source that fails resets the stream with its code") {
    TransferScenario s = sourced(303, {1 << 20});
    s.server_options.source_fails_at = 300'000;
    TransferOutcome out = run_file_transfer(s);
    INFO(out.describe());
    CHECK_FALSE(out.complete);
    CHECK(out.failure.find("server reset the stream") != std::string::npos);
    CHECK(out.failure.find("error " + std::to_string(kFileTransferSourceFailed)) !=
          std::string::npos);
    // Nothing past the failure was delivered, and what was delivered was checked byte by byte.
    CHECK(out.bytes_received <= 300'000);
}
