#include "protocols/http/http_date.h"

#include <array>
#include <chrono>

namespace epolld::http {
namespace {

constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kLongDays = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                       "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct DateTime {
  int year = 0;
  int month = 0;  // 1 to 12
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
};

// Each take*() consumes what it names from the front of `text` and says
// whether it was there. HTTP-date is case-sensitive (§5.6.7).
bool takeLiteral(std::string_view& text, std::string_view literal) {
  if (!text.starts_with(literal)) {
    return false;
  }
  text.remove_prefix(literal.size());
  return true;
}

// One of `names`; `index` says which.
template <std::size_t N>
bool takeName(std::string_view& text, const std::array<std::string_view, N>& names, int& index) {
  for (std::size_t i = 0; i < N; ++i) {
    if (takeLiteral(text, names[i])) {
      index = static_cast<int>(i);
      return true;
    }
  }
  return false;
}

// Exactly `count` digits.
bool takeNumber(std::string_view& text, std::size_t count, int& value) {
  if (text.size() < count) {
    return false;
  }
  value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return false;
    }
    value = value * 10 + (text[i] - '0');
  }
  text.remove_prefix(count);
  return true;
}

bool takeMonth(std::string_view& text, DateTime& date) {
  if (!takeName(text, kMonths, date.month)) {
    return false;
  }
  ++date.month;
  return true;
}

// time-of-day = hour ":" minute ":" second
bool takeTimeOfDay(std::string_view& text, DateTime& date) {
  return takeNumber(text, 2, date.hour) && takeLiteral(text, ":") && takeNumber(text, 2, date.minute) &&
         takeLiteral(text, ":") && takeNumber(text, 2, date.second);
}

// The two formats that start with the day of the week and end in GMT:
//   IMF-fixdate = day-name "," SP day SP month SP year SP time-of-day SP "GMT"
//   rfc850-date = day-name-l "," SP day "-" month "-" 2DIGIT SP time-of-day SP "GMT"
template <std::size_t N>
std::optional<DateTime> parseDayFirstDate(std::string_view text, const std::array<std::string_view, N>& day_names,
                                          std::string_view separator, std::size_t year_digits) {
  DateTime date;
  int weekday = 0;  // not checked against the date: nothing depends on it
  const bool parsed = takeName(text, day_names, weekday) && takeLiteral(text, ", ") &&
                      takeNumber(text, 2, date.day) && takeLiteral(text, separator) && takeMonth(text, date) &&
                      takeLiteral(text, separator) && takeNumber(text, year_digits, date.year) &&
                      takeLiteral(text, " ") && takeTimeOfDay(text, date) && text == " GMT";
  return parsed ? std::optional(date) : std::nullopt;
}

std::optional<DateTime> parseImfFixdate(std::string_view text) { return parseDayFirstDate(text, kDays, " ", 4); }

std::optional<DateTime> parseRfc850Date(std::string_view text) {
  std::optional<DateTime> date = parseDayFirstDate(text, kLongDays, "-", 2);
  if (date) {
    // §5.6.7: a two-digit year more than 50 years in the future is the most
    // recent past year with those digits.
    const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
    const int this_year = static_cast<int>(std::chrono::year_month_day(today).year());
    date->year += this_year / 100 * 100;
    if (date->year > this_year + 50) {
      date->year -= 100;
    }
  }
  return date;
}

// asctime-date = day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time-of-day SP year
std::optional<DateTime> parseAsctimeDate(std::string_view text) {
  DateTime date;
  int weekday = 0;
  const bool parsed = takeName(text, kDays, weekday) && takeLiteral(text, " ") && takeMonth(text, date) &&
                      takeLiteral(text, " ") &&
                      (takeLiteral(text, " ") ? takeNumber(text, 1, date.day) : takeNumber(text, 2, date.day)) &&
                      takeLiteral(text, " ") && takeTimeOfDay(text, date) && takeLiteral(text, " ") &&
                      takeNumber(text, 4, date.year) && text.empty();
  return parsed ? std::optional(date) : std::nullopt;
}

std::optional<std::int64_t> toEpochSeconds(const DateTime& date) {
  using namespace std::chrono;
  const year_month_day day{year(date.year), month(static_cast<unsigned>(date.month)),
                           std::chrono::day(static_cast<unsigned>(date.day))};
  // second = 2DIGIT allows 60: a leap second, as RFC 5322 §3.3 has it.
  if (!day.ok() || date.hour > 23 || date.minute > 59 || date.second > 60) {
    return std::nullopt;
  }
  const seconds since_midnight = hours(date.hour) + minutes(date.minute) + seconds(date.second);
  return (sys_days(day).time_since_epoch() + since_midnight).count();
}

}  // namespace

std::optional<std::int64_t> parseHttpDate(std::string_view text) {
  for (const auto parse : {parseImfFixdate, parseRfc850Date, parseAsctimeDate}) {
    if (const std::optional<DateTime> date = parse(text)) {
      return toEpochSeconds(*date);
    }
  }
  return std::nullopt;
}

}  // namespace epolld::http
