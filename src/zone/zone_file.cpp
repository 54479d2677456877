// Master files and record strings, parsed by ldns: its grammar is the reference one, covers every
// type it knows and RFC 3597's generic form. ldns objects are owned by unique_ptrs and turned
// into our pieces at once.
#include "util/ldns.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "zone/records.hpp"

namespace nolb::zone {
namespace {

struct RdfFree {
    void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
struct RrFree {
    void operator()(ldns_rr* r) const { ldns_rr_free(r); }
};
using RdfPtr = std::unique_ptr<ldns_rdf, RdfFree>;
using RrPtr = std::unique_ptr<ldns_rr, RrFree>;

RdfPtr origin_rdf(const dns::WireName& origin) {
    return RdfPtr(ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, origin.size(), origin.data()));
}

ParsedRecord convert(const ldns_rr* rr) {
    ParsedRecord out;
    const ldns_rdf* owner = ldns_rr_owner(rr);
    out.owner.assign(reinterpret_cast<const char*>(ldns_rdf_data(owner)), ldns_rdf_size(owner));
    out.type = static_cast<std::uint16_t>(ldns_rr_get_type(rr));
    out.klass = static_cast<std::uint16_t>(ldns_rr_get_class(rr));
    out.ttl = ldns_rr_ttl(rr);
    for (std::size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
        const ldns_rdf* rdf = ldns_rr_rdf(rr, i);
        Piece piece;
        piece.is_name = ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_DNAME;
        piece.bytes.assign(reinterpret_cast<const char*>(ldns_rdf_data(rdf)), ldns_rdf_size(rdf));
        // Adjacent raw fields are one piece: only names need to stand alone.
        if (!piece.is_name && !out.rdata.pieces.empty() && !out.rdata.pieces.back().is_name)
            out.rdata.pieces.back().bytes += piece.bytes;
        else
            out.rdata.pieces.push_back(std::move(piece));
    }
    return out;
}

std::string status_text(ldns_status s) {
    return ldns_get_errorstr_by_id(s);
}

}  // namespace

bool parse_record_text(const std::string& text, const dns::WireName& origin,
                       std::uint32_t default_ttl, ParsedRecord& out, std::string& error) {
    RdfPtr org = origin_rdf(origin);
    ldns_rr* raw = nullptr;
    ldns_rdf* prev = nullptr;
    ldns_status s = ldns_rr_new_frm_str(&raw, text.c_str(), default_ttl, org.get(), &prev);
    RdfPtr prev_owner(prev);
    RrPtr rr(raw);
    if (s != LDNS_STATUS_OK || !rr) {
        error = status_text(s);
        return false;
    }
    out = convert(rr.get());
    return true;
}

std::vector<ParsedRecord> read_zone_file(const std::string& path, const dns::WireName& origin,
                                         std::uint32_t default_ttl,
                                         std::vector<std::string>& problems) {
    std::vector<ParsedRecord> records;
    std::unique_ptr<FILE, int (*)(FILE*)> fp(std::fopen(path.c_str(), "r"), std::fclose);
    if (!fp) {
        problems.push_back(path + ": cannot open: " + std::strerror(errno));
        return records;
    }
    ldns_rdf* org = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, origin.size(), origin.data());
    ldns_rdf* prev = nullptr;
    std::uint32_t ttl = default_ttl;
    int line = 1;
    while (!std::feof(fp.get())) {
        ldns_rr* raw = nullptr;
        const int line_before = line;
        ldns_status s = ldns_rr_new_frm_fp_l(&raw, fp.get(), &ttl, &org, &prev, &line);
        RrPtr rr(raw);
        // ldns counts the newline that ends a record: the record's (last) line is one before.
        const int record_line = line > line_before ? line - 1 : line;
        switch (s) {
            case LDNS_STATUS_OK:
                records.push_back(convert(rr.get()));
                records.back().line = static_cast<std::uint32_t>(record_line);
                break;
            case LDNS_STATUS_SYNTAX_EMPTY:
            case LDNS_STATUS_SYNTAX_TTL:
            case LDNS_STATUS_SYNTAX_ORIGIN:
                break;
            default:
                problems.push_back(path + ":" + std::to_string(record_line) + ": " +
                                   status_text(s));
                break;
        }
        if (problems.size() > 50) break;
    }
    ldns_rdf_deep_free(org);
    if (prev) ldns_rdf_deep_free(prev);
    return records;
}

}  // namespace nolb::zone
