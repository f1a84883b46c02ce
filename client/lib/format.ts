// The browser formats exactly as the server's templates do: same module, bundled.
export { formatDate, formatDateTime, formatMoney, formatPercentBp } from '../../server/platform/view-helpers/formatters';
