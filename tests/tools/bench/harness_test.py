"""Unit tests of the benchmark harness's shared parts (contrib/bench): the statistics every
benchmark reports, the Markdown and CSV tables, the PNG and SVG plots, dnsperf's report parser
and the DNS client's message parser. Registered with ctest as bench.harness; run by hand with

    /usr/bin/python3 -m unittest discover -s tests/tools/bench -p '*_test.py'
"""

import csv
import os
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'contrib'))

from bench import dnsperf, dnswire, plots, report, stats  # noqa: E402


class MedianAndQuartiles(unittest.TestCase):
    def test_odd_and_even_counts(self):
        self.assertEqual(stats.median([3, 1, 2]), 2)
        self.assertEqual(stats.median([4, 1, 3, 2]), 2.5)

    def test_one_value_is_its_own_quartiles(self):
        self.assertEqual(stats.quartiles([7]), (7, 7, 7))

    def test_quartiles_interpolate_inclusively(self):
        self.assertEqual(stats.quartiles([1, 2, 3, 4, 5]), (2, 3, 4))
        q1, q2, q3 = stats.quartiles([1, 2, 3, 4])
        self.assertAlmostEqual(q1, 1.75)
        self.assertAlmostEqual(q2, 2.5)
        self.assertAlmostEqual(q3, 3.25)

    def test_no_values_is_an_error(self):
        with self.assertRaises(ValueError):
            stats.summarize([])


class MedianInterval(unittest.TestCase):
    def test_few_values_give_the_range_and_its_true_coverage(self):
        low, high, coverage = stats.median_interval([5, 1, 3])
        self.assertEqual((low, high), (1, 5))
        self.assertAlmostEqual(coverage, 0.75)

    def test_six_values_reach_95_percent_with_the_extremes(self):
        low, high, coverage = stats.median_interval([6, 2, 4, 1, 5, 3])
        self.assertEqual((low, high), (1, 6))
        self.assertAlmostEqual(coverage, 1 - 2 / 64)

    def test_twenty_values_narrow_to_the_6th_and_15th(self):
        # P(Binomial(20, 1/2) <= 5) = 0.0207, so k = 6 gives 95.9 %; k = 7 would give 88.5 %.
        low, high, coverage = stats.median_interval(list(range(1, 21)))
        self.assertEqual((low, high), (6, 15))
        self.assertAlmostEqual(coverage, 0.9586, places=4)

    def test_summary_carries_everything(self):
        s = stats.summarize([10, 30, 20])
        self.assertEqual((s.n, s.median, s.minimum, s.maximum), (3, 20, 10, 30))
        self.assertEqual((s.low, s.high), (10, 30))


class Ratios(unittest.TestCase):
    def test_ratio_to_the_reference(self):
        summaries = {'nolbd': stats.summarize([2, 2, 2]), 'nsd': stats.summarize([3, 3, 3])}
        self.assertEqual(stats.ratios_to(summaries, 'nolbd'), {'nolbd': 1.0, 'nsd': 1.5})

    def test_undefined_ratios_are_none(self):
        self.assertIsNone(stats.ratio(1, 0))
        self.assertIsNone(stats.ratio(None, 2))
        self.assertEqual(stats.ratios_to({'nsd': stats.summarize([1])}, 'nolbd'), {'nsd': None})

    def test_group_collects_a_field_by_keys(self):
        rows = [{'server': 'a', 'mix': 'www', 'qps': '1'}, {'server': 'a', 'mix': 'www', 'qps': '3'},
                {'server': 'b', 'mix': 'www', 'qps': ''}]
        self.assertEqual(stats.group(rows, ['server', 'mix'], 'qps'), {('a', 'www'): [1.0, 3.0]})


class Tables(unittest.TestCase):
    def table(self):
        t = report.Table([report.Column('server', 'server', left=True),
                          report.Column('qps', 'queries/s', '{:,.0f}'),
                          report.Column('ratio', 'vs nolbd', '{:.2f}')])
        t.add(server='nolbd', qps=123456.7, ratio=1.0)
        t.add(server='nsd', qps=100000, ratio=None)
        return t

    def test_markdown_rounds_aligns_and_dashes_missing_values(self):
        self.assertEqual(self.table().markdown(),
                         '| server | queries/s | vs nolbd |\n'
                         '| --- | ---: | ---: |\n'
                         '| nolbd | 123,457 | 1.00 |\n'
                         '| nsd | 100,000 | - |\n')

    def test_csv_keeps_raw_values(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'sub', 't.csv')
            self.table().write_csv(path)
            with open(path) as f:
                rows = list(csv.reader(f))
        self.assertEqual(rows, [['server', 'qps', 'ratio'], ['nolbd', '123456.7', '1.0'], ['nsd', '100000', '']])

    def test_unknown_column_is_refused(self):
        with self.assertRaises(KeyError):
            self.table().add(server='x', nothing=1)

    def test_rows_round_trip_through_csv(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'rounds.csv')
            report.write_rows_csv(path, ['a', 'b'], [{'a': 1, 'b': 2, 'c': 3}])
            self.assertEqual(report.read_rows_csv(path), [{'a': '1', 'b': '2'}])


class Plots(unittest.TestCase):
    def check(self, paths):
        png, svg = paths
        with open(png, 'rb') as f:
            self.assertEqual(f.read(8), b'\x89PNG\r\n\x1a\n')
        with open(svg) as f:
            self.assertIn('<svg', f.read())

    def test_bars_with_error_bars_and_a_reference_line(self):
        with tempfile.TemporaryDirectory() as d:
            self.check(plots.bars(d, 'speed', 'title', [
                ('queries/s', 'q/s', [('nolbd', 100, 90, 110), ('nsd', 80, None, None)]),
                ('CPU', 'us', [('nolbd', 3.0, 2.9, 3.2), ('nsd', 4.0, 3.5, 4.5)])],
                reference_lines={'CPU': (1.5, 'floor')}))

    def test_boxes_and_lines(self):
        with tempfile.TemporaryDirectory() as d:
            self.check(plots.boxes(d, 'b', 'title', 'ms', [('a', [1, 2, 3]), ('empty', [])]))
            self.check(plots.lines(d, 'l', 'title', 's', 'KiB', [('rss', [0, 60], [8000, 8100])]))


class DnsperfReport(unittest.TestCase):
    TEXT = """
Statistics:

  Queries sent:         200000
  Queries completed:    199990 (99.99%)
  Queries lost:         10 (0.01%)

  Response codes:       NOERROR 199990 (100.00%)
  Average packet size:  request 32, response 112
  Run time (s):         10.000123
  Queries per second:   19998.754

  Average Latency (s):  0.000420 (min 0.000011, max 0.012000)
  Latency StdDev (s):   0.000100

Connection Statistics:

  Reconnections:        2
  Average Latency (s):  0.000900 (min 0.000100, max 0.002000)
"""

    def test_fields(self):
        f = dnsperf.parse(self.TEXT)
        self.assertEqual((f['sent'], f['completed'], f['lost'], f['reconnections']), (200000, 199990, 10, 2))
        self.assertAlmostEqual(f['qps'], 19998.754)
        self.assertAlmostEqual(f['avg_latency_ms'], 0.42)   # the queries', not the connections'
        self.assertAlmostEqual(f['max_latency_ms'], 12.0)

    def test_missing_report_gives_zeros(self):
        self.assertEqual(dnsperf.parse('')['completed'], 0)


class DnsMessages(unittest.TestCase):
    def test_compressed_answer_is_read(self):
        qid, query = dnswire.build_query('www.bench.test', 'A', qid=7)
        header = struct.pack('!HHHHHH', 7, 0x8400, 1, 1, 0, 0)
        record = b'\xc0\x0c' + struct.pack('!HHIH', 1, 1, 30, 4) + bytes([192, 0, 2, 1])
        got_id, r = dnswire.parse_response(header + query[12:] + record)
        self.assertEqual((got_id, r.rcode), (7, 'NOERROR'))
        self.assertEqual(r.answer, [('www.bench.test.', 'A', 30, '192.0.2.1')])

    def test_pointer_loop_is_an_error(self):
        with self.assertRaises(ValueError):
            dnswire.read_name(b'\xc0\x00', 0)


if __name__ == '__main__':
    unittest.main()
