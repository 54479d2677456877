// The stable names of health states and probe outcomes, as logs, nolbctl and metrics print them.
#include "health/state.hpp"

namespace nolb::health {

const char* observed_name(Observed observed) {
    switch (observed) {
        case Observed::unknown:
            return "unknown";
        case Observed::up:
            return "up";
        case Observed::down:
            return "down";
    }
    return "unknown";
}

const char* outcome_name(Outcome outcome) {
    switch (outcome) {
        case Outcome::ok:
            return "ok";
        case Outcome::timeout:
            return "timeout";
        case Outcome::refused:
            return "refused";
        case Outcome::reset:
            return "reset";
        case Outcome::unreachable:
            return "unreachable";
        case Outcome::status:
            return "status";
        case Outcome::body:
            return "body";
        case Outcome::protocol:
            return "protocol";
        case Outcome::error:
            return "error";
    }
    return "error";
}

}  // namespace nolb::health
