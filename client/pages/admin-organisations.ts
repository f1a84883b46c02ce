// New organisation: the hospital level only applies to hospitals, so it is hidden (and cleared) for
// other types. New user: only the roles the chosen organisation's type allows can be picked.
const typeSelect = document.querySelector<HTMLSelectElement>('[data-org-type]');
const levelField = document.querySelector<HTMLElement>('[data-hospital-only]');

function syncLevel(): void {
  if (!typeSelect || !levelField) return;
  const isHospital = typeSelect.value === 'hospital';
  levelField.hidden = !isHospital;
  const level = levelField.querySelector('select');
  if (level) {
    level.required = isHospital;
    if (!isHospital) level.value = '';
  }
}

function rolesByOrgType(): Record<string, string[]> {
  const el = document.getElementById('roles-by-org-type');
  try {
    return el?.textContent ? (JSON.parse(el.textContent) as Record<string, string[]>) : {};
  } catch {
    return {};
  }
}

const allowedRoles = rolesByOrgType();
// NOTE: the organisation is picked by search (templates/partials/picker.hbs); its type comes with the hit.
const orgPicker = document.querySelector<HTMLElement>('[data-user-form] [data-picker]');
const orgType = document.querySelector<HTMLInputElement>('[data-user-org-type]');
const roleSelect = document.querySelector<HTMLSelectElement>('#user-role');

function syncRoles(): void {
  if (!roleSelect) return;
  const allowed = orgType?.value ? allowedRoles[orgType.value] : undefined;
  for (const option of roleSelect.options) {
    if (!option.value) continue;
    option.disabled = !!allowed && !allowed.includes(option.value);
    option.hidden = option.disabled;
  }
  if (roleSelect.selectedOptions[0]?.disabled) roleSelect.value = '';
  if (allowed?.length === 1) roleSelect.value = allowed[0]!;
}

typeSelect?.addEventListener('change', syncLevel);
orgPicker?.addEventListener('picker:change', (e) => {
  const item = (e as CustomEvent<{ item: { type?: string } | null }>).detail.item;
  if (orgType) orgType.value = item?.type ?? '';
  syncRoles();
});
syncLevel();
syncRoles();
