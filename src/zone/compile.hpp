// zone::compile turns a Model and a health view into an immutable Snapshot with every answer
// rendered to wire format. Expensive work happens here, once per load or change, so that
// answering is select, shuffle, copy and patch.
//
// A Compiler keeps what it needs to render the next snapshot of the same Model from the last
// one: a health change or a drain renders again only the answers that read the services whose
// addresses changed (a service's own name, CNAMEs that end there, additional records and glue
// that name it), plus, when an automatic serial moves, the answers that carry the SOA. The
// rest is copied from the previous snapshot, so a change costs a copy of the arrays rather than
// a rendering of every name. Answers replaced this way leave their bytes behind; when that
// garbage outweighs the live data the next snapshot is packed.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "zone/model.hpp"
#include "zone/snapshot.hpp"

namespace nolb::zone {

class Renderer;

class Compiler {
  public:
    explicit Compiler(std::shared_ptr<const Model> model);
    ~Compiler();
    Compiler(const Compiler&) = delete;
    Compiler& operator=(const Compiler&) = delete;

    // The snapshot for `available` and `serials` (zone i's SOA serial; see next_serials). The
    // first call renders everything; later ones start from the previous snapshot. Either way
    // the answers are the same as compile() gives for the same arguments.
    std::shared_ptr<const Snapshot> render(const Availability& available,
                                           const std::vector<std::uint32_t>& serials);
    // The same, from a caller that has compared the rows with the previous call's itself
    // (publish::Publisher, which needs the differences anyway): the rows of `changed` are
    // taken as changed without comparing them again, the others as they were.
    std::shared_ptr<const Snapshot> render(const Availability& available,
                                           const std::vector<std::uint32_t>& serials,
                                           const std::vector<std::size_t>& changed);

    const Model& model() const { return *model_; }

    // What the last render() did, for logs and stats.
    struct Work {
        bool full = false;          // rendered from the model, not from the previous snapshot
        std::size_t services = 0;   // whose published addresses changed
        std::size_t nodes = 0;      // names whose answers were rendered
        std::size_t referrals = 0;  // referrals rendered again (glue that names a service)
        bool packed = false;        // garbage left by earlier changes was dropped
    };
    const Work& last_work() const;

  private:
    std::shared_ptr<const Snapshot> render(const Availability& available,
                                           const std::vector<std::uint32_t>& serials,
                                           const std::vector<std::size_t>* changed);

    std::shared_ptr<const Model> model_;
    std::unique_ptr<Renderer> renderer_;
};

// Renders everything once, as a Compiler's first render() does: for --check-config and tests.
std::shared_ptr<const Snapshot> compile(const Model& model, const Availability& available,
                                        const std::vector<std::uint32_t>& serials);

// The serials for a new rendering: a fixed serial from the config stays; an automatic one is
// the current time, or one more than `previous` when that is not newer (RFC 1982 arithmetic
// keeps working across the wrap). `previous` may be empty.
std::vector<std::uint32_t> next_serials(const Model& model,
                                        const std::vector<std::uint32_t>& previous);

// load + compile with every address published: the zero-admin view, and what tests use.
std::shared_ptr<const Snapshot> compile(const config::Config& config);

}  // namespace nolb::zone
