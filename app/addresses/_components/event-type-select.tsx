import { ADDRESS_EVENT_TYPES, type AddressEventType } from '@/domain/address';
import { EVENT_LABELS } from '../_lib/labels';

/** "Any" or one event type, by its label: the filter of the timeline and of the audit log. */
export function EventTypeSelect({ id, defaultValue }: { id: string; defaultValue?: AddressEventType }) {
  return (
    <select id={id} name="type" defaultValue={defaultValue ?? ''}>
      <option value="">Any</option>
      {ADDRESS_EVENT_TYPES.map((t) => (
        <option key={t} value={t}>
          {EVENT_LABELS[t]}
        </option>
      ))}
    </select>
  );
}
