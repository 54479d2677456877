// Renders one response tail (the sections after the question) for the Snapshot, with name
// compression against the question name and against names already in the tail. The question
// is not known at load time, only that it equals, or ends with, `match`: pointers into it are
// recorded as fixups relative to the end of the question name, so that respond can re-aim them
// for any name length.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dns/name.hpp"
#include "zone/records.hpp"
#include "zone/snapshot.hpp"

namespace nolb::zone {

enum class Section { answer, authority, additional };

class TailBuilder {
  public:
    // `match`: the question name, or (for wildcard and negative answers) a name it ends with.
    explicit TailBuilder(const dns::WireName& match);

    // Appends an RRset. `owner` empty means "the question name" (a pointer to offset 12).
    void add(Section section, const dns::WireName& owner, const RRset& rrset);
    // Additional records the client needs (glue in a referral): TC if they are cut.
    void mark_required_additional() { required_ar_ = ar_; }

    void set_rcode(std::uint8_t rcode) { rcode_ = rcode; }
    void set_authoritative(bool aa) { aa_ = aa; }
    std::size_t answer_count() const { return an_; }

    // Moves the tail into the snapshot; returns the answer's index. With `replace`, the answer
    // at that index is overwritten (its old bytes stay behind, unused): whoever points at it
    // sees the new tail.
    std::uint32_t finish(Snapshot& snapshot, std::uint32_t replace = kNoAnswer);

  private:
    struct Entry {
        dns::WireName name;  // lower-cased suffix
        Fixup::Kind kind;
        std::uint16_t value;
    };

    void write_name(const dns::WireName& name, bool compress);
    void write_pointer(Fixup::Kind kind, std::uint16_t value);
    void u16(std::uint16_t v);
    void u32(std::uint32_t v);

    std::string out_;
    std::vector<Entry> table_;
    std::vector<Fixup> fixups_;
    std::vector<Cut> cuts_;
    std::uint16_t qname_size_;
    std::uint16_t an_ = 0, ns_ = 0, ar_ = 0, required_ar_ = 0;
    std::uint8_t rcode_ = 0;
    bool aa_ = true;
    Answer answer_;
};

}  // namespace nolb::zone
