/** The Stats tab: live CPU, memory, network and block I/O charts from the engine's stats stream. */
import { useEffect, useState } from 'react';
import type { StatsSample } from '../../../../electron/contract/models.js';
import { api } from '../../api/client.js';
import { requireEngineId } from '../../stores/session.js';
import { LineChart } from '../../components/LineChart.js';
import { formatBytes, formatPercent } from '../../lib/format.js';

const WINDOW = 60;

/** Per-second rates between consecutive samples of a counter. */
export function rates(samples: StatsSample[], pick: (s: StatsSample) => number): number[] {
  const out: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const dt = (samples[i]!.time - samples[i - 1]!.time) / 1000;
    out.push(dt > 0 ? Math.max(0, (pick(samples[i]!) - pick(samples[i - 1]!)) / dt) : 0);
  }
  return out;
}

export function StatsView({ containerId, running }: { containerId: string; running: boolean }) {
  const [samples, setSamples] = useState<StatsSample[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!running) return;
    setSamples([]);
    const h = api().open(
      'containers.stats',
      { engineId: requireEngineId(), id: containerId },
      {
        onEvent: (s) => setSamples((prev) => [...prev.slice(-(WINDOW - 1)), s]),
        onEnd: (err) => err && setError(err.message),
      },
    );
    return () => h.close();
  }, [containerId, running]);
  if (!running) return <div className="empty"><h3>The container is not running</h3><p>Statistics stream while it runs.</p></div>;
  if (error) return <pre className="error-box">{error}</pre>;
  const last = samples[samples.length - 1];
  const rate = (v: number) => `${formatBytes(v)}/s`;
  return (
    <div className="stats-view" data-samples={samples.length}>
      {!last && <div className="loading">Waiting for the first sample…</div>}
      {last && (
        <p className="muted">
          {last.onlineCpus} CPU{last.onlineCpus === 1 ? '' : 's'} · {last.pids} processes · memory limit {formatBytes(last.memLimit)}
        </p>
      )}
      <div className="charts">
        <LineChart title="CPU" series={[{ label: 'usage', values: samples.map((s) => s.cpuPercent), className: 's1' }]} format={formatPercent} max={1} />
        <LineChart title="Memory" series={[{ label: 'used', values: samples.map((s) => s.memUsage), className: 's1' }]} format={(v) => formatBytes(v)} />
        <LineChart
          title="Network I/O"
          series={[
            { label: 'received', values: rates(samples, (s) => s.netRx), className: 's1' },
            { label: 'sent', values: rates(samples, (s) => s.netTx), className: 's2' },
          ]}
          format={rate}
        />
        <LineChart
          title="Block I/O"
          series={[
            { label: 'read', values: rates(samples, (s) => s.blkRead), className: 's1' },
            { label: 'written', values: rates(samples, (s) => s.blkWrite), className: 's2' },
          ]}
          format={rate}
        />
      </div>
    </div>
  );
}
