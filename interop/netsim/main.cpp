// quiver-netsim: the network simulator of interop/run (interop/README.md). It stands where the
// runner's ns-3 simulator stands, between the client side and the server side, with the same
// scenarios (scenario.h), on TUN devices (tun_device.h) instead of docker networks.
//   quiver-netsim run --scenario "drop-rate --delay=15ms ..." --client NETNS:IF:ADDRS ...
//   quiver-netsim probe server:443
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <cstdio>
#include <random>
#include <sstream>
#include <string>

#include "forwarder.h"
#include "probe.h"
#include "scenario.h"
#include "simulator.h"

namespace {

// "NETNS:IFNAME:ADDR,ADDR" (NETNS may be empty: the simulator's own namespace). IPv6
// addresses have colons, so only the first two separate fields.
bool parse_host(const std::string& spec, netsim::Side side, netsim::Host& out, std::string& error) {
    const auto a = spec.find(':');
    const auto b = a == std::string::npos ? a : spec.find(':', a + 1);
    if (b == std::string::npos) {
        error = "expected NETNS:IFNAME:ADDR[,ADDR...], got '" + spec + "'";
        return false;
    }
    out = netsim::Host{side, spec.substr(0, a), spec.substr(a + 1, b - a - 1), {}};
    std::stringstream in(spec.substr(b + 1));
    std::string item;
    while (std::getline(in, item, ',')) {
        auto ip = netsim::IpAddress::parse(item);
        if (!ip) {
            error = "bad address '" + item + "' in '" + spec + "'";
            return false;
        }
        out.addresses.push_back(*ip);
    }
    if (out.addresses.empty()) error = "no address in '" + spec + "'";
    return !out.addresses.empty();
}

int run(const std::string& scenario_text, const std::vector<std::string>& clients,
        const std::vector<std::string>& servers, const std::vector<std::string>& locals,
        std::optional<uint64_t> seed, bool deliver_corrupted, bool start_now, uint16_t sync_port,
        const std::string& log_path) {
    std::string error;
    auto scenario = netsim::parse_scenario(scenario_text, error);
    if (!scenario) {
        std::fprintf(stderr, "quiver-netsim: %s\n", error.c_str());
        return 2;
    }
    scenario->to_server.deliver_corrupted = scenario->to_client.deliver_corrupted =
        deliver_corrupted;
    netsim::ForwarderOptions options;
    for (auto [list, side] :
         {std::pair{&clients, netsim::Side::kClient}, std::pair{&servers, netsim::Side::kServer},
          std::pair{&locals, netsim::Side::kLocal}}) {
        for (const std::string& spec : *list) {
            netsim::Host h;
            if (!parse_host(spec, side, h, error)) {
                std::fprintf(stderr, "quiver-netsim: %s\n", error.c_str());
                return 2;
            }
            options.hosts.push_back(h);
        }
    }
    if (!log_path.empty() && log_path != "-") {
        options.log = std::fopen(log_path.c_str(), "a");
        if (!options.log) {
            std::perror(log_path.c_str());
            return 1;
        }
    }
    setvbuf(options.log, nullptr, _IOLBF, 0);
    const uint64_t s = seed ? *seed : std::random_device{}();
    std::fprintf(options.log, "scenario: %s\nseed: %llu%s\n", scenario_text.c_str(),
                 static_cast<unsigned long long>(s),
                 deliver_corrupted ? "\ncorrupted packets are delivered" : "");
    if (scenario->rebind) {
        for (const netsim::Host& h : options.hosts)
            for (const netsim::IpAddress& a : h.addresses)
                if (a != scenario->rebind->client) scenario->rebind->reserved.push_back(a);
    }
    options.start_now = start_now;
    options.synchroniser_port = sync_port;
    netsim::Simulator simulator(*scenario, s);
    FILE* log = options.log;
    simulator.set_log([log](const std::string& line) { std::fprintf(log, "%s\n", line.c_str()); });
    netsim::Forwarder forwarder(std::move(options), simulator);
    if (!forwarder.open(error)) {
        std::fprintf(stderr, "quiver-netsim: %s\n", error.c_str());
        return 1;
    }
    std::fprintf(log, "devices ready (pid %d)\n", static_cast<int>(getpid()));
    std::fflush(log);
    return forwarder.run();
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "The network simulator of interop/run: the interop runner's ns-3 scenarios on TUN devices"};
    app.require_subcommand(1);

    auto* run_cmd = app.add_subcommand(
        "run", "Forward packets between the hosts' TUN devices through the scenario");
    std::string scenario;
    std::vector<std::string> clients, servers, locals;
    std::optional<uint64_t> seed;
    bool deliver_corrupted = false, start_now = false;
    uint16_t sync_port = 57832;
    std::string log_path;
    run_cmd
        ->add_option(
            "--scenario", scenario,
            "The runner's SCENARIO, e.g. \"simple-p2p --delay=15ms --bandwidth=10Mbps --queue=25\"")
        ->required();
    run_cmd->add_option("--client", clients,
                        "A host on the client side: NETNS:IFNAME:ADDR[,ADDR...] (repeatable)");
    run_cmd->add_option("--server", servers,
                        "A host on the server side: NETNS:IFNAME:ADDR[,ADDR...] (repeatable)");
    run_cmd->add_option("--local", locals,
                        "The simulator's own host (its kernel): :IFNAME:ADDR[,ADDR...]");
    run_cmd->add_option(
        "--seed", seed,
        "Seed of the random drops, corruptions and NAT ports (default: random, logged)");
    run_cmd->add_flag(
        "--deliver-corrupted", deliver_corrupted,
        "corrupt-rate: deliver corrupted packets (ns-3 drops them at the receiving device)");
    run_cmd->add_flag("--start-now", start_now, "Start the scenario at once (default: at SIGUSR1)");
    run_cmd
        ->add_option("--sync-port", sync_port,
                     "TCP port that listens once the scenario runs (0: none)")
        ->capture_default_str();
    run_cmd->add_option("--log", log_path, "Append the event log to FILE (default: stdout)");

    auto* probe_cmd = app.add_subcommand(
        "probe", "Wait until a QUIC server answers the runner's probe with Version Negotiation");
    std::string target;
    double timeout = 10, interval = 0.5;
    probe_cmd->add_option("target", target, "HOST:PORT")->required();
    probe_cmd->add_option("--timeout", timeout, "Give up after SECONDS")->capture_default_str();
    probe_cmd->add_option("--interval", interval, "Seconds between probes")->capture_default_str();
    app.footer("Exit codes: 0 success (run: ended by SIGINT/SIGTERM), 1 failure, 2 usage error.");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    if (*run_cmd)
        return run(scenario, clients, servers, locals, seed, deliver_corrupted, start_now,
                   sync_port, log_path);
    const netsim::ProbeResult r = netsim::probe_server(target, timeout, interval);
    if (!r.error.empty()) {
        std::fprintf(stderr, "quiver-netsim probe: %s\n", r.error.c_str());
        return 1;
    }
    if (!r.answered) {
        std::printf("%s: no Version Negotiation after %.1f s\n", target.c_str(), r.seconds);
        return 1;
    }
    std::printf("%s answered with Version Negotiation after %.2f s\n", target.c_str(), r.seconds);
    return 0;
}
