// GNU diffutils' choice of alignment, reproduced so --dry-run prints what `diff -u` prints: the same trimming of
// identical ends (keeping 3 lines of horizon), the same discarding of lines that cannot match, Myers' middle-snake
// bisection with GNU's tie-breaks and its cost cut-off for large inputs, and the same sliding of change groups.
// A plain LCS would give a valid but different diff where several alignments are minimal (repeated lines).
#include "digestflow/gitops/unified_diff.hpp"

#include "digestflow/quote.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace digestflow::gitops {

namespace {

using Index = std::ptrdiff_t;
constexpr Index kContext = 3;

struct Side {
    std::string buffer;             // the text with a newline appended when it lacks one
    bool missing_newline = false;
    std::vector<Index> line_starts; // every line of the whole text, plus the end
    Index prefix_lines = 0;         // lines before the compared region
    Index compared_lines = 0;       // lines in the compared region
    std::vector<Index> classes;     // equivalence class of each compared line
    std::vector<char> changed;      // per compared line, with a zero sentinel on each side (index + 1)
    std::vector<Index> kept;        // classes of the lines that survive discarding
    std::vector<Index> kept_at;     // their index among the compared lines

    std::size_t lines() const { return line_starts.size() - 1; }
    bool is_changed(Index i) const { return changed[static_cast<std::size_t>(i + 1)] != 0; }
    void set_changed(Index i, bool v) { changed[static_cast<std::size_t>(i + 1)] = v ? 1 : 0; }
};

Side make_side(const std::string& text) {
    Side s;
    s.buffer = text;
    if (!s.buffer.empty() && s.buffer.back() != '\n') {
        s.buffer.push_back('\n');
        s.missing_newline = true;
    }
    s.line_starts.push_back(0);
    for (std::size_t i = 0; i < s.buffer.size(); ++i)
        if (s.buffer[i] == '\n') s.line_starts.push_back(static_cast<Index>(i + 1));
    return s;
}

Index line_index_at(const Side& s, Index offset) {  // offset is a line start
    return std::lower_bound(s.line_starts.begin(), s.line_starts.end(), offset) - s.line_starts.begin();
}

// The identical prefix and suffix, in bytes as GNU finds them, then widened back to whole lines plus the horizon.
void trim_identical_ends(Side& a, Side& b) {
    const std::string& x = a.buffer;
    const std::string& y = b.buffer;
    const Index n0 = static_cast<Index>(x.size()), n1 = static_cast<Index>(y.size());
    Index p = 0;
    while (p < n0 && p < n1 && x[static_cast<std::size_t>(p)] == y[static_cast<std::size_t>(p)]) ++p;
    Index p0 = p, p1 = p;
    if ((n0 - a.missing_newline < p0) != (n1 - b.missing_newline < p1)) --p0, --p1;
    Index horizon = kContext;
    while (p0 != 0 && (x[static_cast<std::size_t>(p0 - 1)] != '\n' || horizon-- != 0)) --p0, --p1;
    const Index prefix_end0 = p0, prefix_end1 = p1;

    Index s0 = n0, s1 = n1;
    if (a.missing_newline == b.missing_newline) {
        Index stop = prefix_end0 + (n0 < n1 ? 0 : n0 - n1);
        Index q0 = n0, q1 = n1;
        while (q0 != stop) {
            --q0, --q1;
            if (x[static_cast<std::size_t>(q0)] != y[static_cast<std::size_t>(q1)]) {
                ++q0, ++q1;
                stop = q0;
                break;
            }
        }
        const Index begin0 = q0;
        const bool at_line_start = (q0 == 0 || x[static_cast<std::size_t>(q0 - 1)] == '\n') &&
                                   (q1 == 0 || y[static_cast<std::size_t>(q1 - 1)] == '\n');
        Index more = kContext + (at_line_start ? 0 : 1);
        while (more-- != 0 && q0 != n0)
            while (x[static_cast<std::size_t>(q0++)] != '\n') {
            }
        s0 = q0;
        s1 = q1 + (q0 - begin0);
    }
    a.prefix_lines = line_index_at(a, prefix_end0);
    b.prefix_lines = line_index_at(b, prefix_end1);
    a.compared_lines = line_index_at(a, s0) - a.prefix_lines;
    b.compared_lines = line_index_at(b, s1) - b.prefix_lines;
}

void assign_classes(Side& a, Side& b) {
    // Class 0 is never used, as in GNU; an incomplete last line only matches the other incomplete last line.
    std::unordered_map<std::string_view, Index> complete, incomplete;
    Index next = 1;
    for (Side* s : {&a, &b}) {
        s->classes.resize(static_cast<std::size_t>(s->compared_lines));
        for (Index i = 0; i < s->compared_lines; ++i) {
            const auto line = static_cast<std::size_t>(s->prefix_lines + i);
            const auto begin = static_cast<std::size_t>(s->line_starts[line]);
            const auto end = static_cast<std::size_t>(s->line_starts[line + 1]);
            std::string_view text(s->buffer.data() + begin, end - begin);
            auto& table = (s->missing_newline && end == s->buffer.size()) ? incomplete : complete;
            auto [it, fresh] = table.try_emplace(text, next);
            if (fresh) ++next;
            s->classes[static_cast<std::size_t>(i)] = it->second;
        }
        s->changed.assign(static_cast<std::size_t>(s->compared_lines + 2), 0);
    }
}

// Lines with no match in the other file are changes for certain; lines matching very many are dropped from the
// search when they sit inside a run of such lines. Either way they are left out of the Myers search.
void discard_confusing_lines(Side& a, Side& b) {
    std::unordered_map<Index, Index> count[2];
    for (Index c : a.classes) ++count[0][c];
    for (Index c : b.classes) ++count[1][c];
    std::vector<char> discards[2];
    Side* sides[2] = {&a, &b};
    for (int f = 0; f < 2; ++f) {
        const Index end = sides[f]->compared_lines;
        auto& d = discards[f];
        d.assign(static_cast<std::size_t>(end), 0);
        Index many = 5;
        for (Index t = end / 64; (t = t >> 2) > 0;) many *= 2;
        for (Index i = 0; i < end; ++i) {
            auto found = count[1 - f].find(sides[f]->classes[static_cast<std::size_t>(i)]);
            const Index matches = found == count[1 - f].end() ? 0 : found->second;
            if (matches == 0) d[static_cast<std::size_t>(i)] = 1;
            else if (matches > many) d[static_cast<std::size_t>(i)] = 2;
        }
    }
    for (auto& d : discards) {
        const Index end = static_cast<Index>(d.size());
        auto at = [&d](Index k) -> char& { return d[static_cast<std::size_t>(k)]; };
        for (Index i = 0; i < end; ++i) {
            if (at(i) == 2) {
                at(i) = 0;
                continue;
            }
            if (at(i) == 0) continue;
            Index j = i, provisional = 0;
            for (; j < end && at(j) != 0; ++j)
                if (at(j) == 2) ++provisional;
            while (j > i && at(j - 1) == 2) at(--j) = 0, --provisional;
            const Index length = j - i;
            if (provisional * 4 > length) {
                while (j > i)
                    if (at(--j) == 2) at(j) = 0;
                continue;
            }
            Index minimum = 1;
            for (Index t = length >> 2; 0 < (t >>= 2);) minimum <<= 1;
            ++minimum;
            for (Index k = 0, consec = 0; k < length; ++k) {
                if (at(i + k) != 2) consec = 0;
                else if (minimum == ++consec) k -= consec;
                else if (minimum < consec) at(i + k) = 0;
            }
            for (Index k = 0, consec = 0; k < length; ++k) {
                if (k >= 8 && at(i + k) == 1) break;
                if (at(i + k) == 2) consec = 0, at(i + k) = 0;
                else if (at(i + k) == 0) consec = 0;
                else ++consec;
                if (consec == 3) break;
            }
            i += length - 1;
            for (Index k = 0, consec = 0; k < length; ++k) {
                if (k >= 8 && at(i - k) == 1) break;
                if (at(i - k) == 2) consec = 0, at(i - k) = 0;
                else if (at(i - k) == 0) consec = 0;
                else ++consec;
                if (consec == 3) break;
            }
        }
    }
    for (int f = 0; f < 2; ++f) {
        Side& s = *sides[f];
        for (Index i = 0; i < s.compared_lines; ++i) {
            if (discards[f][static_cast<std::size_t>(i)] == 0) {
                s.kept.push_back(s.classes[static_cast<std::size_t>(i)]);
                s.kept_at.push_back(i);
            } else {
                s.set_changed(i, true);
            }
        }
    }
}

class MyersSearch {
public:
    MyersSearch(Side& a, Side& b) : m_a(a), m_b(b) {
        const Index xs = static_cast<Index>(a.kept.size()), ys = static_cast<Index>(b.kept.size());
        Index diags = xs + ys + 3;
        m_offset = ys + 1;
        m_fd.assign(static_cast<std::size_t>(diags), 0);
        m_bd.assign(static_cast<std::size_t>(diags), 0);
        Index cost = 1;
        for (; diags != 0; diags >>= 2) cost <<= 1;
        m_too_expensive = std::max<Index>(4096, cost);
    }
    void run() { compare(0, static_cast<Index>(m_a.kept.size()), 0, static_cast<Index>(m_b.kept.size()), false); }

private:
    struct Split {
        Index x = 0, y = 0;
        bool lo_minimal = false, hi_minimal = false;
    };
    bool equal(Index x, Index y) const {
        return m_a.kept[static_cast<std::size_t>(x)] == m_b.kept[static_cast<std::size_t>(y)];
    }
    Index& fd(Index d) { return m_fd[static_cast<std::size_t>(d + m_offset)]; }
    Index& bd(Index d) { return m_bd[static_cast<std::size_t>(d + m_offset)]; }

    Split middle_snake(Index xoff, Index xlim, Index yoff, Index ylim, bool minimal) {
        const Index dmin = xoff - ylim, dmax = xlim - yoff, fmid = xoff - yoff, bmid = xlim - ylim;
        Index fmin = fmid, fmax = fmid, bmin = bmid, bmax = bmid;
        const bool odd = ((fmid - bmid) & 1) != 0;
        constexpr Index kMax = std::numeric_limits<Index>::max();
        fd(fmid) = xoff;
        bd(bmid) = xlim;
        for (Index c = 1;; ++c) {
            if (fmin > dmin) fd(--fmin - 1) = -1;
            else ++fmin;
            if (fmax < dmax) fd(++fmax + 1) = -1;
            else --fmax;
            for (Index d = fmax; d >= fmin; d -= 2) {
                const Index lo = fd(d - 1), hi = fd(d + 1);
                Index x = lo < hi ? hi : lo + 1, y = x - d;
                while (x < xlim && y < ylim && equal(x, y)) ++x, ++y;
                fd(d) = x;
                if (odd && bmin <= d && d <= bmax && bd(d) <= x) return {x, y, true, true};
            }
            if (bmin > dmin) bd(--bmin - 1) = kMax;
            else ++bmin;
            if (bmax < dmax) bd(++bmax + 1) = kMax;
            else --bmax;
            for (Index d = bmax; d >= bmin; d -= 2) {
                const Index lo = bd(d - 1), hi = bd(d + 1);
                Index x = lo < hi ? lo : hi - 1, y = x - d;
                while (xoff < x && yoff < y && equal(x - 1, y - 1)) --x, --y;
                bd(d) = x;
                if (!odd && fmin <= d && d <= fmax && x <= fd(d)) return {x, y, true, true};
            }
            if (minimal || c < m_too_expensive) continue;
            // Too costly to finish: settle for the furthest-reaching diagonal of either search.
            Index fxybest = -1, fxbest = 0;
            for (Index d = fmax; d >= fmin; d -= 2) {
                Index x = std::min(fd(d), xlim), y = x - d;
                if (ylim < y) x = ylim + d, y = ylim;
                if (fxybest < x + y) fxybest = x + y, fxbest = x;
            }
            Index bxybest = kMax, bxbest = 0;
            for (Index d = bmax; d >= bmin; d -= 2) {
                Index x = std::max(xoff, bd(d)), y = x - d;
                if (y < yoff) x = yoff + d, y = yoff;
                if (x + y < bxybest) bxybest = x + y, bxbest = x;
            }
            if ((xlim + ylim) - bxybest < fxybest - (xoff + yoff)) return {fxbest, fxybest - fxbest, true, false};
            return {bxbest, bxybest - bxbest, false, true};
        }
    }

    void compare(Index xoff, Index xlim, Index yoff, Index ylim, bool minimal) {
        while (xoff < xlim && yoff < ylim && equal(xoff, yoff)) ++xoff, ++yoff;
        while (xoff < xlim && yoff < ylim && equal(xlim - 1, ylim - 1)) --xlim, --ylim;
        if (xoff == xlim) {
            while (yoff < ylim) m_b.set_changed(m_b.kept_at[static_cast<std::size_t>(yoff++)], true);
        } else if (yoff == ylim) {
            while (xoff < xlim) m_a.set_changed(m_a.kept_at[static_cast<std::size_t>(xoff++)], true);
        } else {
            const Split s = middle_snake(xoff, xlim, yoff, ylim, minimal);
            compare(xoff, s.x, yoff, s.y, s.lo_minimal);
            compare(s.x, xlim, s.y, ylim, s.hi_minimal);
        }
    }

    Side& m_a;
    Side& m_b;
    Index m_offset = 0;
    Index m_too_expensive = 4096;
    std::vector<Index> m_fd, m_bd;
};

// Slides each group of changed lines over equal neighbours so groups merge, end as late as possible, and
// line up with a change in the other file where they can.
void shift_boundaries(Side& self, const Side& other) {
    const Index end = self.compared_lines;
    auto changed = [&self](Index i) { return self.is_changed(i); };
    auto other_changed = [&other](Index j) { return other.is_changed(j); };
    auto cls = [&self](Index i) { return self.classes[static_cast<std::size_t>(i)]; };
    Index i = 0, j = 0;
    while (true) {
        while (i < end && !changed(i)) {
            while (other_changed(j++)) {
            }
            ++i;
        }
        if (i == end) break;
        Index start = i;
        while (changed(++i)) {
        }
        while (other_changed(j)) ++j;
        Index runlength = 0, corresponding = 0;
        do {
            runlength = i - start;
            while (start != 0 && cls(start - 1) == cls(i - 1)) {
                self.set_changed(--start, true);
                self.set_changed(--i, false);
                while (changed(start - 1)) --start;
                while (other_changed(--j)) {
                }
            }
            corresponding = other_changed(j - 1) ? i : end;
            while (i != end && cls(start) == cls(i)) {
                self.set_changed(start++, false);
                self.set_changed(i++, true);
                while (changed(i)) ++i;
                while (other_changed(++j)) corresponding = i;
            }
        } while (runlength != i - start);
        while (corresponding < i) {
            self.set_changed(--start, true);
            self.set_changed(--i, false);
            while (other_changed(--j)) {
            }
        }
    }
}

struct Change {
    Index line0, deleted, line1, inserted;  // 0-based first lines in the whole files
};

std::vector<Change> build_script(const Side& a, const Side& b) {
    std::vector<Change> changes;
    Index i0 = 0, i1 = 0;
    while (i0 < a.compared_lines || i1 < b.compared_lines) {
        if (i0 < a.compared_lines && i1 < b.compared_lines && !a.is_changed(i0) && !b.is_changed(i1)) {
            ++i0, ++i1;
            continue;
        }
        const Index s0 = i0, s1 = i1;
        while (i0 < a.compared_lines && a.is_changed(i0)) ++i0;
        while (i1 < b.compared_lines && b.is_changed(i1)) ++i1;
        changes.push_back({a.prefix_lines + s0, i0 - s0, b.prefix_lines + s1, i1 - s1});
    }
    return changes;
}

std::string range(Index first, Index count) {  // 0-based first line of a hunk side
    if (count == 0) return std::to_string(first) + ",0";
    if (count == 1) return std::to_string(first + 1);
    return std::to_string(first + 1) + "," + std::to_string(count);
}

void put_line(std::string& out, char mark, const Side& s, Index line) {
    const auto begin = static_cast<std::size_t>(s.line_starts[static_cast<std::size_t>(line)]);
    const auto end = static_cast<std::size_t>(s.line_starts[static_cast<std::size_t>(line) + 1]);
    out.push_back(mark);
    out.append(s.buffer, begin, end - begin);
    if (s.missing_newline && end == s.buffer.size()) out += "\\ No newline at end of file\n";
}

// A file name in a ---/+++ line, control characters escaped. GNU patch reads the name up to a TAB (diff puts
// the date there), so a name with a space gets one, as git writes it.
std::string header_name(const std::string& label) {
    std::string out = printable(label);
    if (out.find_first_of(" \t") != std::string::npos) out += '\t';
    return out;
}

}  // namespace

std::string unified_diff(const std::string& old_text, const std::string& new_text, const std::string& old_label,
                         const std::string& new_label) {
    if (old_text == new_text) return {};
    Side a = make_side(old_text);
    Side b = make_side(new_text);
    trim_identical_ends(a, b);
    assign_classes(a, b);
    discard_confusing_lines(a, b);
    MyersSearch(a, b).run();
    shift_boundaries(a, b);
    shift_boundaries(b, a);
    const std::vector<Change> changes = build_script(a, b);

    std::string out = "--- " + header_name(old_label) + "\n+++ " + header_name(new_label) + "\n";
    const Index lines0 = static_cast<Index>(a.lines()), lines1 = static_cast<Index>(b.lines());
    for (std::size_t first = 0; first < changes.size();) {
        std::size_t last = first;
        // Changes separated by fewer than 2 * context + 1 unchanged lines share a hunk.
        while (last + 1 < changes.size() &&
               changes[last + 1].line0 - (changes[last].line0 + changes[last].deleted) < 2 * kContext + 1)
            ++last;
        const Index start0 = std::max<Index>(0, changes[first].line0 - kContext);
        const Index start1 = changes[first].line1 - (changes[first].line0 - start0);
        const Index end0 = std::min(lines0, changes[last].line0 + changes[last].deleted + kContext);
        const Index end1 = std::min(lines1, changes[last].line1 + changes[last].inserted + kContext);
        out += "@@ -" + range(start0, end0 - start0) + " +" + range(start1, end1 - start1) + " @@\n";
        Index i0 = start0, i1 = start1;
        for (std::size_t k = first; k <= last; ++k) {
            const Change& c = changes[k];
            while (i0 < c.line0) put_line(out, ' ', a, i0++), ++i1;
            for (Index n = 0; n < c.deleted; ++n) put_line(out, '-', a, i0++);
            for (Index n = 0; n < c.inserted; ++n) put_line(out, '+', b, i1++);
        }
        while (i0 < end0) put_line(out, ' ', a, i0++), ++i1;
        first = last + 1;
    }
    return out;
}

}  // namespace digestflow::gitops
