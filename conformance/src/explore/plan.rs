//! What an exploration does: a plan of lanes (one user's lifecycle each, run at once) and
//! of world actions (the IdP's keys and clock, at set times), drawn at random from a seed
//! with weights, and written as the replay file.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// One thing a lane does: at the RP as the user, or at the IdP as its administrator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
#[allow(missing_docs)] // each variant's line says what its fields hold
pub enum Action {
    /// Logs in in a new browser (a first login, a second device, a login again).
    Login,
    /// Reads `/me` in the lane's `device`-th browser.
    Me { device: usize },
    /// Reads `/me` in the lane's `device`-th browser every tenth of a second for `s`
    /// seconds (the user keeps the page open): a change that shows late shows in one of
    /// the readings.
    Watch { device: usize, s: f64 },
    /// Logs out in the lane's `device`-th browser.
    Logout { device: usize },
    /// Grants a permission through the RP's webapp (capability `grant`).
    Grant { device: usize, permission: String },
    /// Does nothing for this many seconds: no request to the RP at all.
    Idle { s: f64 },
    /// Sets the user's groups at the IdP (any may be unmapped; empty: none).
    Groups { groups: Vec<String> },
    /// The user's next refreshed tokens carry the groups by reference (OIDC Core §5.6.2).
    ByReference { distributed: bool },
    /// Gives the user a new name and email at the IdP.
    Rename,
    /// Disables the user at the IdP (with a back-channel logout token where the RP takes
    /// them, when `logout_token`).
    Disable { logout_token: bool },
    /// Enables the user again.
    Enable,
    /// Deletes the user at the IdP.
    Delete { logout_token: bool },
    /// A new user (a new `sub`) with the email of the lane's current one, which is
    /// deleted first if it still exists.
    Recreate,
    /// Revokes every grant of the user at the IdP.
    Revoke { logout_token: bool },
    /// The token endpoint fails the user's refreshes for `s` seconds: 503, or an answer
    /// that hangs past the RP's own timeout.
    Outage { hang: bool, s: f64 },
}

/// Something that changes the IdP for every lane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
#[allow(missing_docs)] // each variant's line says what its fields hold
pub enum World {
    /// Rotates the signing key (the old one stays published for the ID tokens' lifetime).
    RotateKey {},
    /// Moves the IdP's clock past the refresh tokens' lifetime (every refresh token issued
    /// until then expires), and back after `hold_s` seconds.
    ExpireRefreshTokens { hold_s: f64 },
    /// A spare user outside the lanes, logged in when the round starts, has each refresh
    /// held past the RP's timeout for `s` seconds: an IdP hanging on one user, which must
    /// hold up no one else's sync.
    HangSpare { s: f64 },
}

/// A world action at a time (seconds after the round starts). (Unknown fields are refused
/// by `World`: serde's `deny_unknown_fields` does not combine with `flatten`.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timed {
    /// When.
    pub at_s: f64,
    /// What.
    #[serde(flatten)]
    pub world: World,
}

/// One user's lifecycle: the groups the user starts with, then the actions in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lane {
    /// The groups the user is created with.
    pub groups: Vec<String>,
    /// What happens, in order.
    pub actions: Vec<Action>,
}

/// A round: lanes run at once, world actions at their times.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The lanes.
    pub lanes: Vec<Lane>,
    /// The world actions, by time.
    #[serde(default)]
    pub world: Vec<Timed>,
}

impl Plan {
    /// How many actions in all (world actions included).
    pub fn size(&self) -> usize {
        self.lanes.iter().map(|l| l.actions.len()).sum::<usize>() + self.world.len()
    }
}

/// What the drawing needs to know about the RP.
#[derive(Debug, Clone)]
pub struct Draw {
    /// The groups the RP maps, and one it does not.
    pub groups: Vec<String>,
    /// Permissions to grant through the webapp (empty: the RP has no `grant`).
    pub grantable: Vec<String>,
    /// The RP's sync deadline (seconds): waits are drawn around it.
    pub deadline: f64,
    /// Whether the RP takes back-channel logout tokens.
    pub backchannel: bool,
    /// Actions per lane, at most.
    pub max_actions: usize,
}

/// A seeded source of plans.
#[derive(Debug)]
pub struct Drawer {
    rng: StdRng,
    draw: Draw,
}

/// What the drawing tracks of a lane, to draw actions that make sense where they fall
/// (a replayed or shrunk plan may still hold one that does not: it is then skipped).
#[derive(Debug, Default)]
struct LaneState {
    devices: usize,
    live: Vec<usize>,
    deleted: bool,
    disabled: bool,
    /// The last action re-created the user (who then mostly logs in at once).
    recreated: bool,
    /// The last action changed the user's groups or profile (which the user then often
    /// watches for, the page kept open).
    changed: bool,
}

impl Drawer {
    /// Plans drawn from `seed`.
    pub fn new(seed: u64, draw: Draw) -> Drawer {
        Drawer {
            rng: StdRng::seed_from_u64(seed),
            draw,
        }
    }

    /// The next round: `users` lanes, and now and then a world action.
    pub fn round(&mut self, users: usize) -> Plan {
        let lanes: Vec<Lane> = (0..users).map(|_| self.lane()).collect();
        let mut world = Vec::new();
        // Early in the round, so that the lanes go on well past the RP's JWKS cooldown.
        let span = self.draw.deadline * 2.0;
        if self.rng.random_bool(0.5) {
            let at_s = round2(self.rng.random_range(0.0..span));
            let w = match self.rng.random_range(0..3) {
                0 => World::RotateKey {},
                1 => World::ExpireRefreshTokens {
                    hold_s: self.wait(0.3..1.6),
                },
                _ => World::HangSpare {
                    s: self.wait(1.0..3.0),
                },
            };
            world.push(Timed { at_s, world: w });
        }
        Plan { lanes, world }
    }

    fn pick<T: Clone>(&mut self, from: &[T]) -> T {
        from[self.rng.random_range(0..from.len())].clone()
    }

    /// A wait: a multiple of the sync deadline drawn from this range, to two decimals (any
    /// value, so that a reading falls anywhere around the deadline).
    fn wait(&mut self, multiples: std::ops::Range<f64>) -> f64 {
        round2(self.rng.random_range(multiples) * self.draw.deadline)
    }

    /// Groups: none at all one time in five (the claim then left out, as Okta and Entra ID
    /// do), else each group with even odds.
    fn groups(&mut self) -> Vec<String> {
        if self.rng.random_bool(0.2) {
            return Vec::new();
        }
        let all = self.draw.groups.clone();
        all.into_iter()
            .filter(|_| self.rng.random_bool(0.5))
            .collect()
    }

    fn lane(&mut self) -> Lane {
        let groups = self.groups();
        let n = self.rng.random_range(8..=self.draw.max_actions.max(8));
        let mut s = LaneState::default();
        let mut actions = vec![Action::Login];
        s.devices = 1;
        s.live.push(0);
        while actions.len() < n {
            let a = self.action(&s);
            if a == Action::Recreate && !s.deleted {
                if actions.len() + 2 > n {
                    continue;
                }
                // Spelled out, so that the plan says whether a logout token went.
                let logout_token = self.draw.backchannel && self.rng.random_bool(0.5);
                actions.push(Action::Delete { logout_token });
            }
            s.recreated = a == Action::Recreate;
            s.changed = matches!(a, Action::Groups { .. } | Action::Rename);
            match &a {
                Action::Login => {
                    s.live.push(s.devices);
                    s.devices += 1;
                }
                Action::Logout { device } => s.live.retain(|d| d != device),
                Action::Delete { .. } => s.deleted = true,
                Action::Recreate => {
                    s.deleted = false;
                    s.disabled = false;
                }
                Action::Disable { .. } => s.disabled = true,
                Action::Enable => s.disabled = false,
                _ => {}
            }
            actions.push(a);
        }
        Lane { groups, actions }
    }

    fn action(&mut self, s: &LaneState) -> Action {
        let can_log_in = !s.deleted && !s.disabled && s.live.len() < 3;
        let has_device = s.devices > 0;
        let grant = !self.draw.grantable.is_empty() && !s.live.is_empty();
        if s.recreated && can_log_in && self.rng.random_bool(0.6) {
            return Action::Login;
        }
        if s.changed && !s.live.is_empty() && self.rng.random_bool(0.3) {
            // Around the deadline, so that a change that comes late shows in a reading.
            return Action::Watch {
                device: self.pick(&s.live),
                s: self.wait(0.9..1.6),
            };
        }
        let weights: [(u32, u8); 15] = [
            (if can_log_in { 12 } else { 0 }, 0),
            (if has_device { 26 } else { 0 }, 1),
            (4 * s.live.len().min(2) as u32, 2),
            (if grant { 5 } else { 0 }, 3),
            (16, 4),
            (if s.deleted { 0 } else { 14 }, 5),
            (if s.deleted { 0 } else { 5 }, 6),
            (if s.deleted { 0 } else { 6 }, 7),
            (if s.deleted || s.disabled { 0 } else { 3 }, 8),
            (if s.disabled && !s.deleted { 8 } else { 0 }, 9),
            (if s.deleted { 0 } else { 2 }, 10),
            (if s.deleted { 10 } else { 1 }, 11),
            (if s.deleted { 0 } else { 2 }, 12),
            (5, 13),
            (if has_device { 6 } else { 0 }, 14),
        ];
        let total: u32 = weights.iter().map(|w| w.0).sum();
        let mut at = self.rng.random_range(0..total);
        let mut which = 4;
        for (w, k) in weights {
            if at < w {
                which = k;
                break;
            }
            at -= w;
        }
        let logout_token = self.draw.backchannel && self.rng.random_bool(0.5);
        match which {
            0 => Action::Login,
            1 => Action::Me {
                device: self.device(s),
            },
            2 => Action::Logout {
                device: self.pick(&s.live),
            },
            3 => Action::Grant {
                device: self.pick(&s.live),
                permission: self.pick(&self.draw.grantable.clone()),
            },
            5 => Action::Groups {
                groups: self.groups(),
            },
            6 => Action::ByReference {
                distributed: self.rng.random_bool(0.5),
            },
            7 => Action::Rename,
            8 => Action::Disable { logout_token },
            9 => Action::Enable,
            10 => Action::Delete { logout_token },
            11 => Action::Recreate,
            12 => Action::Revoke { logout_token },
            14 => Action::Watch {
                device: self.device(s),
                s: self.wait(0.3..1.5),
            },
            13 => Action::Outage {
                hang: self.rng.random_bool(0.4),
                s: self.wait(0.5..2.2),
            },
            _ => Action::Idle {
                s: self.wait(0.1..1.8),
            },
        }
    }

    /// A device to read: mostly a live one, now and then one that logged out.
    fn device(&mut self, s: &LaneState) -> usize {
        if !s.live.is_empty() && self.rng.random_bool(0.85) {
            self.pick(&s.live)
        } else {
            self.rng.random_range(0..s.devices)
        }
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draw() -> Draw {
        Draw {
            groups: vec!["a".into(), "b".into(), "unmapped".into()],
            grantable: vec!["read".into()],
            deadline: 2.0,
            backchannel: true,
            max_actions: 20,
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_plans_and_another_seed_others() {
        let a: Vec<Plan> = (0..5)
            .map({
                let mut d = Drawer::new(7, draw());
                move |_| d.round(3)
            })
            .collect();
        let b: Vec<Plan> = (0..5)
            .map({
                let mut d = Drawer::new(7, draw());
                move |_| d.round(3)
            })
            .collect();
        let c = Drawer::new(8, draw()).round(3);
        assert_eq!(a, b);
        assert_ne!(a[0], c);
    }

    #[test]
    fn lanes_start_with_a_login_and_draw_every_kind_of_action_over_many_rounds() {
        let mut d = Drawer::new(1, draw());
        let mut kinds = std::collections::BTreeSet::new();
        let mut world = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let p = d.round(2);
            for l in &p.lanes {
                assert_eq!(l.actions[0], Action::Login);
                assert!(l.actions.len() <= 20);
                for a in &l.actions {
                    let v = serde_json::to_value(a).unwrap();
                    kinds.insert(v["do"].as_str().unwrap().to_owned());
                }
            }
            for w in &p.world {
                let v = serde_json::to_value(w).unwrap();
                world.insert(v["do"].as_str().unwrap().to_owned());
            }
        }
        assert_eq!(kinds.len(), 15, "{kinds:?}");
        assert_eq!(world.len(), 3, "{world:?}");
    }

    #[test]
    fn a_plan_reads_back_as_written() {
        let p = Drawer::new(3, draw()).round(2);
        let text = serde_json::to_string_pretty(&p).unwrap();
        assert_eq!(serde_json::from_str::<Plan>(&text).unwrap(), p);
        let bad = r#"{"lanes":[{"groups":[],"actions":[{"do":"dance"}]}]}"#;
        let e = serde_json::from_str::<Plan>(bad).unwrap_err().to_string();
        assert!(e.contains("dance"), "{e}");
        let world =
            r#"{"lanes":[],"world":[{"at_s":1.5,"do":"expire_refresh_tokens","hold_s":2.0}]}"#;
        let p: Plan = serde_json::from_str(world).unwrap();
        assert_eq!(p.world[0].world, World::ExpireRefreshTokens { hold_s: 2.0 });
        let odd = r#"{"lanes":[],"world":[{"at_s":1.5,"do":"rotate_key","grace":3}]}"#;
        let e = serde_json::from_str::<Plan>(odd).unwrap_err().to_string();
        assert!(e.contains("grace"), "{e}");
    }
}
