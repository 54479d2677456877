// The names of request outcomes as every output of nolb-compare spells them (records, tables,
// charts, JSON): one place, so a report and the records it was drawn from always agree.
#include "nolb-compare/record.hpp"

namespace nolb::compare {

const char* outcome_name(Outcome outcome) {
    switch (outcome) {
        case Outcome::ok:
            return "ok";
        case Outcome::http_error:
            return "http-error";
        case Outcome::refused:
            return "refused";
        case Outcome::connect_timeout:
            return "connect-timeout";
        case Outcome::reset:
            return "reset";
        case Outcome::request_timeout:
            return "request-timeout";
        case Outcome::dns_error:
            return "dns-error";
        case Outcome::local_error:
            return "local-error";
        case Outcome::unfinished:
            return "unfinished";
    }
    return "unknown";
}

}  // namespace nolb::compare
