#pragma once

#include <vector>

#include "api/value.hpp"
#include "operators/nexmark/generator.hpp"

/// Nexmark queries computed directly over a complete list of events, with
/// batch semantics (every event is on time, windows close after the last
/// event), as an independent reference for tests of Weir jobs that run the
/// same queries. Every function returns its result rows sorted, so that
/// results compare as multisets with ==. Timestamps in results are
/// weir::timestamp values; windows are aligned to multiples of their slide
/// since the Unix epoch, and an event at t belongs to window [s, e) when
/// s <= t < e.
namespace weir::nexmark::reference {

/// Query 0 (pass-through): every bid as (auction, bidder, price,
/// date_time).
std::vector<row> q0(const std::vector<event>& events);

/// Query 1 (currency conversion): every bid as (auction, bidder,
/// price * 0.908 as a double, date_time).
std::vector<row> q1(const std::vector<event>& events);

/// Query 2 (selection): the bids with auction % 123 == 0 as (auction,
/// price).
std::vector<row> q2(const std::vector<event>& events);

/// Query 3 (local item suggestion): an unwindowed inner join over all
/// events of the people whose state is OR, ID or CA with the auctions of
/// category 10, on seller == person id, as (person_name, person_city,
/// person_state, auction_id); one row per matching pair.
std::vector<row> q3(const std::vector<event>& events);

/// Query 4 (average price per category): for each auction A, its final
/// price is the highest price of the bids B with B.auction == A.auction_id
/// and A.date_time <= B.date_time <= A.expires; auctions without such a
/// bid drop out. Per category of the remaining auctions, (category, the
/// average final price as a double: the exact int64 sum divided by the
/// count).
std::vector<row> q4(const std::vector<event>& events);

/// Query 5 (hot items): sliding windows of 10 s every 2 s on bid
/// date_time, [start, start + 10 s) for every start that is a multiple of
/// 2 s. Per window, the number of bids of each auction; the auctions whose
/// number equals the window's largest one, as (auction, num, window_end).
/// Windows without bids have no rows.
std::vector<row> q5(const std::vector<event>& events);

/// Query 7 (highest bid): tumbling 10 s windows on bid date_time,
/// [k * 10 s, (k + 1) * 10 s). The bids whose price equals the highest
/// price of their window, as (auction, price, bidder, date_time); ties all
/// appear.
std::vector<row> q7(const std::vector<event>& events);

/// Query 8 (monitor new users): tumbling 10 s windows, people by their
/// date_time and auctions by theirs. The distinct (person_id, person_name,
/// window_start) of the people who are the seller of an auction in the
/// same window.
std::vector<row> q8(const std::vector<event>& events);

} // namespace weir::nexmark::reference
